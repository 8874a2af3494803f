"""The reader's library: one SQLite file holding documents, their text, the search index,
memories and the questions asked.

``Library`` composes one repository per job over a single connection and lock:

- documents.py: documents, sections, the passage index and search;
- memories.py: memory rows and the documents each memory holds;
- notes.py: notes folders synced in place, and the note versions a memory holds;
- history.py: questions and answers;
- schema.py: the versioned migrations; records.py: the dataclasses callers get back.
"""

from __future__ import annotations

from pathlib import Path

from sqlite_utils import Database

from app.paths import data_home

from ..dbconn import open_connection, translate_errors
from .documents import DocumentsRepo
from .history import HistoryRepo
from .memories import MemoriesRepo
from .notes import NotesRepo
from .records import (
    MEMORY_STATUSES,
    SOURCE_STATUSES,
    DocumentInfo,
    NoteChange,
    NotesSync,
    Passage,
    SectionInfo,
)
from .schema import SCHEMA_VERSION, migrate
from .store import LibraryError

__all__ = ["Library", "LibraryError", "SCHEMA_VERSION", "MEMORY_STATUSES", "SOURCE_STATUSES", "DocumentInfo",
           "SectionInfo", "Passage", "NoteChange", "NotesSync"]


class Library(DocumentsRepo, MemoriesRepo, NotesRepo, HistoryRepo):
    """Documents, the passage index, memories, notes and Q&A history in one library file."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else data_home() / "library.db"
        self.db = Database(open_connection(self.path))  # refuses a file that is not a library
        try:
            with translate_errors(self.path):
                migrate(self.db, self.path)  # safe when other processes open it at once
        except BaseException:
            self.db.close()
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        return int(self._rows("SELECT MAX(version) AS v FROM migrations")[0]["v"] or 0)

    def counts(self) -> dict[str, int]:
        """Row count per table (tests use it to prove a failed import changed nothing)."""
        tables = ["documents", "sections", "passages", "memories", "memory_sources", "qa_history"]
        return {t: self._rows(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in tables}
