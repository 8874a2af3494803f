"""The rows the library tree shows: plain objects the controller builds from the library (a
document, a memory), with what their columns and tips say. No Qt: tests and the memory picker
use them as they are."""

from __future__ import annotations

from dataclasses import dataclass, field

STATUS_TEXT = {
    "queued": "queued",
    "running": "memorizing",
    "paused": "paused",
    "stopped": "stopped",
    "interrupted": "interrupted",
    "done": "ready",
    "failed": "failed",
    "cancelled": "stopped",
}


@dataclass
class DocumentRow:
    id: int
    title: str
    kind: str = "book"
    authors: list[str] = field(default_factory=list)
    characters: int = 0
    memories: list[str] = field(default_factory=list)  # memories that hold (part of) it
    # memory -> what it holds when not the whole document: ("3 of 139 chapters",
    # "chapters 1-3 of 139, 12,909 tokens (partly memorized)"), short for the column, long for its tip
    partly: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def memorized(self) -> bool:
        """Whether some memory holds the whole document (a partly memorized one is not)."""
        return any(name not in self.partly for name in self.memories)

    def memory_text(self) -> str:
        return ", ".join(f"{name} ({self.partly[name][0]})" if name in self.partly else name
                         for name in self.memories)

    def memory_tip(self) -> str:
        return "\n".join(f"“{name}” holds {self.partly[name][1]}" if name in self.partly
                         else f"“{name}” holds the whole document" for name in self.memories)


@dataclass
class MemoryRow:
    name: str
    status: str = "done"
    tokens_done: int = 0  # of the last (or running) run: what a resume starts from
    tokens_total: int = 0  # of the last (or running) run
    sources: list[str] = field(default_factory=list)  # "Moby-Dick (chapters 1-3 of 139)", in order
    message: str = ""
    tokens_held: int | None = None  # what it holds, all runs together (None: not known)

    @property
    def progress(self) -> float | None:
        """Fraction done while the memory is being (or was being) built; None once finished."""
        if self.status in ("done",) or not self.tokens_total:
            return None
        return max(0.0, min(1.0, self.tokens_done / self.tokens_total))


def memory_note(mem: MemoryRow) -> str:
    """What the memory picker adds to an unfinished memory's name: "stopped, 0.3% memorized"."""
    if mem.status == "done":
        return ""
    status = STATUS_TEXT.get(mem.status, mem.status)
    if mem.progress is None:
        return status
    pct = 100 * mem.progress
    return f"{status}, {pct:.1f}% memorized" if pct < 10 else f"{status}, {pct:.0f}% memorized"
