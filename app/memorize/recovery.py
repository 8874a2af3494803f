"""Damaged memory files: say what is wrong, and the two ways out of a damaged checkpoint.

A checkpoint that cannot be read (zero bytes after a full disk, truncated, overwritten) leaves
its memory failed. Two ways on, both losing nothing that was sound:
- start over: drop the checkpoint and memorize the unfinished document again, on top of the
  memory's last completed save;
- keep the last good save: drop the checkpoint and the unfinished documents; the memory is what
  it was when it last saved (only possible once a document was finished).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.errors import JobError
from app.library import Library
from app.memorize.paths import CHECKPOINT, MEMORY_SUFFIXES, META, TENSORS, memory_file
from locas_engine.atomic import temp_files
from locas_engine.memory_files import memory_file_problem  # reads files without torch


def memory_problem(row: dict[str, Any]) -> str | None:
    """A sentence when the memory's saved files are missing or damaged (None when sound or
    when nothing was saved yet)."""
    path = Path(row["path"]) if row.get("path") else None
    if path is None:
        return None
    tensors = memory_file(path, TENSORS)
    if not tensors.exists() and not memory_file(path, META).exists():
        if row["status"] == "done":
            return (f"The files of memory '{row['name']}' are missing ({tensors}); delete the memory "
                    "and memorize its documents again, or restore the files from a backup.")
        return None
    return memory_file_problem(path)


def remove_temp_files(path: Path) -> None:
    """Temp files of killed atomic writes beside the memory's files (never its real files)."""
    for suffix in MEMORY_SUFFIXES:
        for tmp in temp_files(memory_file(path, suffix)):
            tmp.unlink(missing_ok=True)


def checkpoint_advice(name: str, saved: bool) -> str:
    """What to do about a damaged checkpoint, as commands."""
    start = f"run 'locas resume \"{name}\" --start-over' to memorize the unfinished document again"
    if not saved:
        return f"Nothing else was changed: {start}, or delete the memory."
    return (f"The memory's last completed save is unchanged: {start} on top of it, or "
            f"'locas resume \"{name}\" --keep-saved' to keep the memory as last saved.")


def memory_row(library: Library, name: str) -> dict[str, Any]:
    """The memory's library row, or JobError with a sentence when there is none."""
    row = library.get_memory(name)
    if row is None:
        raise JobError(f"There is no memory named '{name}'. See 'locas memories' for the list.")
    return row


def start_over(library: Library, name: str) -> None:
    """Drop the checkpoint: the next resume memorizes the unfinished document from its start."""
    row = memory_row(library, name)
    if row.get("path"):
        memory_file(Path(row["path"]), CHECKPOINT).unlink(missing_ok=True)
        remove_temp_files(Path(row["path"]))
    library.update_memory(name, stream=None, status="interrupted",
                          message="Starting the unfinished document over; resume to continue.")


def keep_saved(library: Library, name: str) -> None:
    """Drop the checkpoint and the unfinished documents; the memory stays as last saved."""
    row = memory_row(library, name)
    path = Path(row["path"]) if row.get("path") else None
    if path is None or not memory_file(path, TENSORS).exists():
        raise JobError(f"Memory '{name}' has no completed save to keep; use --start-over instead.")
    problem = memory_file_problem(path)
    if problem:
        raise JobError(problem)
    memory_file(path, CHECKPOINT).unlink(missing_ok=True)
    remove_temp_files(path)
    unfinished = [s for s in library.memory_sources(name) if s["status"] in ("pending", "running")]
    for s in unfinished:
        library.remove_memory_source(name, s["document_id"])
    done = [s for s in library.memory_sources(name) if s["status"] == "done"]
    tokens = sum(int(s["tokens"] or 0) for s in done)
    library.update_memory(name, status="done", stream=None, tokens_done=tokens, tokens_total=tokens,
                          message="")
