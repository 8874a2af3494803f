"""Private notes: keep a library document and its memories in step with a notes folder.

Notes change a few at a time, so re-memorizing a whole vault after each edit would waste minutes
and blur what the memory already learned. Instead a sync updates only the changed sections of
the library document, and ``update_notes_memory`` memorizes only the note versions a memory does
not hold yet (continual memorization) through the ordinary memorize job, which keeps its
checkpoints, progress events and resume. A memory cannot forget a deleted note; we say so and
offer ``rebuild_notes_memory``, which memorizes the current notes into a fresh memory.

These functions are what the command line and the GUI call; they report through the same
MemorizeEvent callback and JobControl as every memorize job.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from app.document import Document, ImportFailed, Section, section_hash
from app.errors import JobError
from app.importers import import_file
from app.importers.notes import folder_hash
from app.library import NotesSync, SectionInfo
from app.memories import delete_memory
from app.memorize.job import (
    JobControl,
    MemorizeEvent,
    MemorizeOutcome,
    MemorizeRequest,
    run_memorize,
    stored_specs,
)
from app.session import Session

QUICK_NOTES_SOURCE = "locas:quick-notes"
QUICK_NOTES_TITLE = "Quick notes"

EventCallback = Callable[[MemorizeEvent], None] | None


@dataclass
class MemoryNotesStatus:
    """How a memory stands against the current notes: what it lacks and what it still holds."""

    memory: str
    to_memorize: list[SectionInfo] = field(default_factory=list)  # new or changed notes
    deleted: list[dict[str, Any]] = field(default_factory=list)  # deleted notes the memory still holds
    outdated: list[dict[str, Any]] = field(default_factory=list)  # older versions of edited notes

    @property
    def up_to_date(self) -> bool:
        return not self.to_memorize

    @property
    def holds_removed_text(self) -> bool:
        """True when only a rebuild can make the memory forget something."""
        return bool(self.deleted or self.outdated)


def sync_folder(session: Session, folder: str | Path) -> NotesSync:
    """Import a notes folder, or bring its library document up to date (raises ImportFailed)."""
    path = Path(folder).expanduser()
    if path.exists() and not path.is_dir():
        raise ImportFailed(path, "it is a file, not a folder of notes")
    return session.library.sync_notes(import_file(path))


def notes_status(session: Session, memory: str, document_id: int) -> MemoryNotesStatus:
    """What ``update_notes_memory`` would memorize, and which removed notes the memory still holds."""
    library = session.library
    if library.get_memory(memory) is None:  # a new memory lacks every note
        return MemoryNotesStatus(memory=memory, to_memorize=library.sections(document_id))
    stale = library.stale_sections(memory, document_id)
    return MemoryNotesStatus(
        memory=memory,
        to_memorize=library.unheld_sections(memory, document_id),
        deleted=[r for r in stale if r["deleted"]],
        outdated=[r for r in stale if not r["deleted"]],
    )


def update_notes_memory(session: Session, memory: str, document_id: int, on_event: EventCallback = None,
                        control: JobControl | None = None) -> MemorizeOutcome:
    """Memorize only the notes the memory does not hold in their current version (all of them
    into a new memory, made with the user's default settings)."""
    library = session.library
    if library.get_document(document_id) is None:
        raise JobError(f"There is no document with id {document_id}. See 'locas list' for the ids.")
    status = notes_status(session, memory, document_id)
    ids = [s.id for s in status.to_memorize]
    if not ids:
        row = library.get_memory(memory)
        if on_event is not None:
            on_event(MemorizeEvent(memory=memory, phase="done", message=f"Memory '{memory}' is up to date."))
        return MemorizeOutcome(memory, True, 0, 0, row.get("ppl"), Path(row["path"] or ""))
    request = MemorizeRequest(document_ids=[document_id], memory=memory, section_ids={document_id: ids})
    return run_memorize(session, request, on_event=on_event, control=control)


def rebuild_notes_memory(session: Session, memory: str, on_event: EventCallback = None,
                         control: JobControl | None = None) -> MemorizeOutcome:
    """Memorize the memory's documents from scratch into a fresh memory of the same name.

    The new memory is built under a temporary name and replaces the old one only once complete,
    so a cancelled rebuild leaves the old memory as it was (the half-built one can be resumed or
    deleted under its temporary name).
    """
    library = session.library
    row = library.get_memory(memory)
    if row is None:
        raise JobError(f"There is no memory named '{memory}'. See 'locas memories' for the list.")
    documents = [s["document_id"] for s in library.memory_sources(memory)
                 if s["status"] != "deleted" and library.get_document(s["document_id"]) is not None]
    if not documents:
        raise JobError(f"Memory '{memory}' holds no document that is still in the library; nothing to rebuild.")
    specs = stored_specs(row, session.device_type())  # the memory's own, from its files
    temporary = f"{memory} (rebuilding)"
    if library.get_memory(temporary) is not None:
        session.unload_memory(temporary)
        delete_memory(library, temporary)
    # Quick notes are shared by memories: keep just the ones this memory held, as they are now.
    quick = library.find_notes_folder(QUICK_NOTES_SOURCE)
    sections = None
    if quick is not None and quick.id in documents:
        held = {r["section_hash"] for r in library.held_sections(memory, quick.id)}
        sections = {quick.id: [s.id for s in library.sections(quick.id) if s.meta.get("hash") in held]}
    request = MemorizeRequest(document_ids=documents, memory=temporary, section_ids=sections,
                              specs=specs)
    outcome = run_memorize(session, request, on_event=on_event, control=control)
    if not outcome.completed:
        return outcome
    session.unload_memory(memory)
    session.unload_memory(temporary)
    delete_memory(library, memory)
    library.rename_memory(temporary, memory)
    return MemorizeOutcome(memory, True, outcome.tokens_done, outcome.tokens_total, outcome.ppl, outcome.path)


@dataclass
class QuickNote:
    document_id: int
    section_id: int
    outcome: MemorizeOutcome | None  # None when no memory was chosen


def add_quick_note(session: Session, text: str, memory: str | None = None, on_event: EventCallback = None,
                   control: JobControl | None = None) -> QuickNote:
    """Store a typed note in the library's "Quick notes" document and memorize it into ``memory``.

    Only the new note is memorized (the memory is created when it does not exist yet); the
    note stays in the library, searchable and citable, even without a memory.
    """
    text = "\n".join(line.rstrip() for line in text.strip().replace("\r\n", "\n").split("\n"))
    if not text:
        raise JobError("Type a note first.")
    library = session.library
    first_line = text.split("\n", 1)[0]
    title = first_line if len(first_line) <= 60 else first_line[:59].rstrip() + "…"
    now = datetime.now(timezone.utc)
    path = f"quick/{now.strftime('%Y%m%dT%H%M%S')}-{time.monotonic_ns() % 1_000_000:06d}"
    section = Section(title, text, {"path": path, "mtime": now.isoformat(timespec="seconds"),
                                    "hash": section_hash(title, text)})
    existing = library.find_notes_folder(QUICK_NOTES_SOURCE)
    sections = (library.load_document(existing.id).sections if existing else []) + [section]
    doc = Document(title=existing.title if existing else QUICK_NOTES_TITLE, authors=[], language=None,
                   kind="notes", source_path=QUICK_NOTES_SOURCE,
                   content_hash=folder_hash(QUICK_NOTES_SOURCE, sections), sections=sections,
                   meta={"format": "quick-notes", "notes": len(sections)})
    synced = library.sync_notes(doc)
    section_id = next(c.section_id for c in synced.added if c.path == path)
    outcome = None
    if memory:
        request = MemorizeRequest(document_ids=[synced.document_id], memory=memory,
                                  section_ids={synced.document_id: [section_id]})
        outcome = run_memorize(session, request, on_event=on_event, control=control)
    return QuickNote(synced.document_id, section_id, outcome)
