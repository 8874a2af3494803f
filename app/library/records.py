"""The records the library hands to callers: documents, sections, search hits, note syncs.

Plain dataclasses, read by attribute. Memory, source and history rows stay dicts of their
columns (the CLI prints them as JSON as they are).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# "stopped": the user stopped it (Stop, Ctrl-C, closing the app); "interrupted": the process died
# while it ran (a crash, a kill). Both resume from the checkpoint; only a crash is worth a question
# at the next start.
MEMORY_STATUSES = ("queued", "running", "paused", "stopped", "interrupted", "done", "failed")
SOURCE_STATUSES = ("pending", "running", "done", "deleted")


@dataclass
class DocumentInfo:
    """A stored document without its text (what lists and the CLI show)."""

    id: int
    title: str
    authors: list[str]
    language: str | None
    kind: str
    source_path: str
    content_hash: str
    sections: int
    characters: int
    created: str
    meta: dict[str, Any] = field(default_factory=dict)
    duplicate: bool = False  # set by import_file when the same content was already stored


def section_label(number: int, title: str | None) -> str:
    """How a section is named to people, everywhere (lists, the chapter picker, the reader,
    citations): its number in the document, as `locas list --sections` lists it and
    `--sections` takes it, then its title."""
    return f"{number}. {title}" if title else f"Section {number}"


@dataclass
class SectionInfo:
    """A section of a document. ``id`` is the library's own key, never shown; ``number`` is
    the 1-based number people see and give (``position`` counts from 0, with no gaps)."""

    id: int
    document_id: int
    position: int
    title: str
    characters: int
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def number(self) -> int:
        return self.position + 1

    @property
    def label(self) -> str:
        return section_label(self.number, self.title)


@dataclass
class Passage:
    """A search hit, precise enough to cite and to open in context.

    ``start``/``end`` are character offsets into the section's text (``Library.section_text``);
    ``index`` is the passage's order within the section.
    """

    document_id: int
    document_title: str
    section_id: int
    section_title: str
    section_position: int
    index: int
    start: int
    end: int
    text: str
    snippet: str
    score: float

    @property
    def section_number(self) -> int:
        """The section's number as people see it (SectionInfo.number), not its library id."""
        return self.section_position + 1


@dataclass
class NoteChange:
    """One note that a sync added, changed or deleted."""

    section_id: int
    path: str
    title: str


@dataclass
class NotesSync:
    """What ``Library.sync_notes`` did to a notes document."""

    document_id: int
    created: bool = False
    added: list[NoteChange] = field(default_factory=list)
    changed: list[NoteChange] = field(default_factory=list)
    deleted: list[NoteChange] = field(default_factory=list)
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.changed) + len(self.deleted)
