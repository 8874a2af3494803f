"""The reader's library: one SQLite file holding documents, their text, the search index,
memories and the questions asked.

Why SQLite through sqlite-utils: a single file a person can back up, transactions so a failed
import never leaves half a book behind, and FTS5 for passage search without another service.
Every write that belongs together runs in one ``db.atomic()`` block. The schema is versioned by a
``migrations`` table so later releases can evolve it in place.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from locas_engine.paths import data_home

from .dbconn import open_connection, translate_errors
from .document import Document, Section, section_hash
from .errors import UserError
from .memory_paths import resolve_memory_path
from .passages import fts_query, passage_spans
from .records import Record, jsonable

# "stopped": the user stopped it (Stop, Ctrl-C, closing the app); "interrupted": the process died
# while it ran (a crash, a kill). Both resume from the checkpoint; only a crash is worth a question
# at the next start.
MEMORY_STATUSES = ("queued", "running", "paused", "stopped", "interrupted", "done", "failed")
SOURCE_STATUSES = ("pending", "running", "done", "deleted")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# --- records handed to callers --------------------------------------------------------------

@dataclass
class DocumentInfo(Record):
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


@dataclass
class SectionInfo(Record):
    id: int
    document_id: int
    position: int
    title: str
    characters: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class Passage(Record):
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


@dataclass
class Chunk:
    """A run of tokens to memorize; text plus its token count under one tokenizer."""

    text: str
    tokens: int
    section_id: int | None = None
    start: int | None = None  # char offset in the section, when the chunk lies in one
    position: int = 0
    id: int | None = None


@dataclass
class NoteChange(Record):
    """One note that a sync added, changed or deleted."""

    section_id: int
    path: str
    title: str


@dataclass
class NotesSync(Record):
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


# --- schema -----------------------------------------------------------------------------------

def _migration_1(db: Database) -> None:
    """Initial schema."""
    db.executescript(
        """
        CREATE TABLE documents (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            authors TEXT NOT NULL DEFAULT '[]',
            language TEXT,
            kind TEXT NOT NULL,
            source_path TEXT,
            content_hash TEXT NOT NULL UNIQUE,
            sections INTEGER NOT NULL DEFAULT 0,
            characters INTEGER NOT NULL DEFAULT 0,
            meta TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL
        );
        CREATE TABLE sections (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            position INTEGER NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            characters INTEGER NOT NULL,
            meta TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX sections_document ON sections(document_id, position);
        CREATE TABLE chunks (
            id INTEGER PRIMARY KEY,
            document_id INTEGER NOT NULL REFERENCES documents(id),
            section_id INTEGER REFERENCES sections(id),
            tokenizer TEXT NOT NULL,
            position INTEGER NOT NULL,
            start INTEGER,
            text TEXT NOT NULL,
            tokens INTEGER NOT NULL
        );
        CREATE INDEX chunks_document ON chunks(document_id, tokenizer, position);
        CREATE VIRTUAL TABLE passages USING fts5(
            text, section_title,
            document_id UNINDEXED, section_id UNINDEXED, idx UNINDEXED,
            start UNINDEXED, "end" UNINDEXED,
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TABLE memories (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            backbone TEXT,
            backbone_fingerprint TEXT,
            path TEXT,
            settings TEXT NOT NULL DEFAULT '{}',
            status TEXT NOT NULL DEFAULT 'queued',
            message TEXT,
            tokens_done INTEGER NOT NULL DEFAULT 0,
            tokens_total INTEGER NOT NULL DEFAULT 0,
            ppl REAL,
            stream TEXT,
            pid INTEGER,
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        );
        CREATE TABLE memory_sources (
            id INTEGER PRIMARY KEY,
            memory_id INTEGER NOT NULL REFERENCES memories(id),
            document_id INTEGER,
            document_title TEXT NOT NULL,
            position INTEGER NOT NULL,
            tokens INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending'
        );
        CREATE INDEX memory_sources_memory ON memory_sources(memory_id, position);
        CREATE INDEX memory_sources_document ON memory_sources(document_id);
        CREATE TABLE qa_history (
            id INTEGER PRIMARY KEY,
            memory_id INTEGER,
            question TEXT NOT NULL,
            answer TEXT NOT NULL,
            citations TEXT NOT NULL DEFAULT '[]',
            options TEXT NOT NULL DEFAULT '{}',
            created TEXT NOT NULL
        );
        CREATE INDEX qa_history_memory ON qa_history(memory_id, id);
        """
    )


def _migration_2(db: Database) -> None:
    """Which version (hash) of which section each memory holds: continual memorization of notes.

    A row is 'pending' while a job is to memorize that section and 'done' once the memory holds
    it; rows outlive the section, so a deleted or edited note is known to be still in the memory.
    """
    db.executescript(
        """
        CREATE TABLE memory_sections (
            id INTEGER PRIMARY KEY,
            memory_id INTEGER NOT NULL REFERENCES memories(id),
            document_id INTEGER NOT NULL,
            section_hash TEXT NOT NULL,
            path TEXT,
            title TEXT NOT NULL,
            tokens INTEGER NOT NULL DEFAULT 0,
            status TEXT NOT NULL DEFAULT 'pending',
            updated TEXT NOT NULL,
            UNIQUE (memory_id, document_id, section_hash, status)
        );
        CREATE INDEX memory_sections_memory ON memory_sections(memory_id, document_id);
        """
    )


# (version, name, function). Append only; never edit a released migration.
MIGRATIONS: list[tuple[int, str, Callable[[Database], None]]] = [
    (1, "initial schema", _migration_1),
    (2, "memory sections", _migration_2),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


class LibraryError(UserError):
    """A library operation was refused; the message is a sentence for the user."""


class Library:
    """Documents, sections, chunks, the passage index, memories and Q&A history.

    Safe to share between the GUI thread and the engine worker: every public method holds one
    lock, and the connection is opened with ``check_same_thread=False``.
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else data_home() / "library.db"
        self.db = Database(open_connection(self.path))  # refuses a file that is not a library
        self._lock = threading.RLock()
        with translate_errors(self.path):
            self._migrate()

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema ---------------------------------------------------------------------------

    def _migrate(self) -> None:
        with self._lock:
            if "migrations" not in self.db.table_names():
                self.db.execute(
                    "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)"
                )
            done = {row["version"] for row in self.db.query("SELECT version FROM migrations")}
            newer = [v for v in done if v > SCHEMA_VERSION]
            if newer:
                raise LibraryError(
                    f"The library at {self.path} was written by a newer Locas Reader (schema {max(newer)}); "
                    "please update the app."
                )
            for version, name, migrate in MIGRATIONS:
                if version in done:
                    continue
                with self.db.atomic():
                    migrate(self.db)
                    self.db.execute(
                        "INSERT INTO migrations (version, name, applied) VALUES (?, ?, ?)", [version, name, _now()]
                    )

    @property
    def schema_version(self) -> int:
        with self._lock:
            row = next(self.db.query("SELECT MAX(version) AS v FROM migrations"))
            return int(row["v"] or 0)

    @contextmanager
    def _write(self) -> Iterator[Database]:
        with self._lock, translate_errors(self.path), self.db.atomic():
            yield self.db

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with self._lock, translate_errors(self.path):
            return list(self.db.query(sql, list(params)))

    # --- documents ------------------------------------------------------------------------

    def add_document(self, doc: Document) -> int:
        """Store a Document (sections + index) in one transaction and return its id.

        The same content (same hash) already stored returns the existing id: no duplicate.
        """
        return self._store(doc)[0]

    def _store(self, doc: Document) -> tuple[int, bool]:
        """(document id, whether it is new): the duplicate check and the insert race with another
        process importing the same file, so the UNIQUE hash decides and the loser reads the winner's."""
        existing = self.find_by_hash(doc.content_hash)
        if existing is not None:
            return existing.id, False
        if not doc.sections:
            raise LibraryError(f"{doc.title} has no sections to store.")
        try:
            return self._insert_document(doc), True
        except sqlite3.IntegrityError:
            existing = self.find_by_hash(doc.content_hash)
            if existing is None:
                raise
            return existing.id, False

    def _insert_document(self, doc: Document) -> int:
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO documents (title, authors, language, kind, source_path, content_hash, sections, "
                "characters, meta, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [doc.title, json.dumps(doc.authors), doc.language, doc.kind, doc.source_path, doc.content_hash,
                 len(doc.sections), doc.characters, json.dumps(doc.meta, ensure_ascii=False), _now()],
            )
            document_id = cursor.lastrowid
            for position, section in enumerate(doc.sections):
                self._insert_section(db, document_id, position, section)
        return document_id

    def _insert_section(self, db: Database, document_id: int, position: int, section: Section) -> int:
        cursor = db.execute(
            "INSERT INTO sections (document_id, position, title, text, characters, meta) VALUES (?, ?, ?, ?, ?, ?)",
            [document_id, position, section.title, section.text, len(section.text),
             json.dumps(section.meta, ensure_ascii=False)],
        )
        section_id = cursor.lastrowid
        self._index_section(db, document_id, section_id, section)
        return section_id

    def _index_section(self, db: Database, document_id: int, section_id: int, section: Section) -> None:
        """The section's passages in the search index."""
        rows = [
            (section.text[start:end], section.title, document_id, section_id, idx, start, end)
            for idx, (start, end) in enumerate(passage_spans(section.text))
        ]
        db.conn.executemany(
            'INSERT INTO passages (text, section_title, document_id, section_id, idx, start, "end") '
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def import_file(self, path: str | Path, max_size: int | None = None) -> DocumentInfo:
        """Import a file (raises ImportFailed, leaving the library untouched, on bad input)."""
        from .importers import import_file

        doc = import_file(path, max_size=max_size)
        if doc.meta.get("format") == "notes-folder":  # a folder imported again is synced
            synced = self.sync_notes(doc)
            info = self.get_document(synced.document_id)
            assert info is not None
            info.duplicate = not synced.created and not synced.changes
            return info
        document_id, created = self._store(doc)
        info = self.get_document(document_id)
        assert info is not None
        info.duplicate = not created
        return info

    def _document_info(self, row: dict[str, Any]) -> DocumentInfo:
        return DocumentInfo(
            id=row["id"], title=row["title"], authors=json.loads(row["authors"]), language=row["language"],
            kind=row["kind"], source_path=row["source_path"], content_hash=row["content_hash"],
            sections=row["sections"], characters=row["characters"], created=row["created"],
            meta=json.loads(row["meta"]),
        )

    def find_by_hash(self, content_hash: str) -> DocumentInfo | None:
        rows = self._rows("SELECT * FROM documents WHERE content_hash = ?", [content_hash])
        return self._document_info(rows[0]) if rows else None

    def get_document(self, document_id: int) -> DocumentInfo | None:
        rows = self._rows("SELECT * FROM documents WHERE id = ?", [document_id])
        return self._document_info(rows[0]) if rows else None

    def list_documents(self) -> list[DocumentInfo]:
        return [self._document_info(r) for r in self._rows("SELECT * FROM documents ORDER BY id")]

    def sections(self, document_id: int) -> list[SectionInfo]:
        rows = self._rows(
            "SELECT id, document_id, position, title, characters, meta FROM sections "
            "WHERE document_id = ? ORDER BY position",
            [document_id],
        )
        return [SectionInfo(r["id"], r["document_id"], r["position"], r["title"], r["characters"],
                            json.loads(r["meta"])) for r in rows]

    def section_text(self, section_id: int) -> str:
        rows = self._rows("SELECT text FROM sections WHERE id = ?", [section_id])
        if not rows:
            raise LibraryError(f"There is no section {section_id} in the library.")
        return rows[0]["text"]

    def load_document(self, document_id: int) -> Document:
        """The stored Document with its full section text (what a memorize job reads)."""
        info = self.get_document(document_id)
        if info is None:
            raise LibraryError(f"There is no document {document_id} in the library.")
        rows = self._rows("SELECT title, text, meta FROM sections WHERE document_id = ? ORDER BY position",
                          [document_id])
        return Document(
            title=info.title, authors=info.authors, language=info.language, kind=info.kind,
            source_path=info.source_path, content_hash=info.content_hash,
            sections=[Section(r["title"], r["text"], json.loads(r["meta"])) for r in rows], meta=info.meta,
        )

    def document_text(self, document_id: int) -> str:
        """The whole document as one text, each section under its title (what gets memorized)."""
        doc = self.load_document(document_id)
        return "\n\n".join(f"{s.title}\n\n{s.text}" if s.title else s.text for s in doc.sections)

    def rename_document(self, document_id: int, title: str) -> DocumentInfo:
        title = title.strip()
        if not title:
            raise LibraryError("A document needs a title.")
        if self.get_document(document_id) is None:
            raise LibraryError(f"There is no document {document_id} in the library.")
        with self._write() as db:
            db.execute("UPDATE documents SET title = ? WHERE id = ?", [title, document_id])
            db.execute("UPDATE memory_sources SET document_title = ? WHERE document_id = ?", [title, document_id])
        info = self.get_document(document_id)
        assert info is not None
        return info

    def passage_context(self, passage: Passage | dict[str, Any]) -> dict[str, Any]:
        """The section a passage (or a stored citation dict) comes from, with the passage's offsets."""
        get = passage.get
        section_id = get("section_id")
        rows = self._rows(
            "SELECT s.id, s.document_id, s.position, s.title, s.text, d.title AS document_title "
            "FROM sections s JOIN documents d ON d.id = s.document_id WHERE s.id = ?",
            [section_id],
        )
        if not rows:
            raise LibraryError("The passage's document is no longer in the library.")
        r = rows[0]
        return {"document_id": r["document_id"], "document_title": r["document_title"], "section_id": r["id"],
                "section_title": r["title"], "section_position": r["position"], "text": r["text"],
                "start": get("start"), "end": get("end")}

    def document_context(self, document_id: int, position: int = 0) -> dict[str, Any]:
        """One section of a document for reading (the first by default), in passage_context's shape."""
        rows = self._rows("SELECT id FROM sections WHERE document_id = ? AND position = ?", [document_id, position])
        if not rows:
            raise LibraryError(f"There is no section {position} of document {document_id} in the library.")
        return self.passage_context({"section_id": rows[0]["id"], "start": None, "end": None})

    def delete_document(self, document_id: int) -> DocumentInfo:
        """Remove a document, its sections, chunks and index rows; memories keep a 'deleted' mark."""
        info = self.get_document(document_id)
        if info is None:
            raise LibraryError(f"There is no document {document_id} in the library.")
        with self._write() as db:
            db.execute("DELETE FROM passages WHERE document_id = ?", [document_id])
            db.execute("DELETE FROM chunks WHERE document_id = ?", [document_id])
            db.execute("DELETE FROM sections WHERE document_id = ?", [document_id])
            db.execute("DELETE FROM documents WHERE id = ?", [document_id])
            db.execute(
                "UPDATE memory_sources SET status = 'deleted' WHERE document_id = ?",
                [document_id],
            )
        return info

    # --- search ---------------------------------------------------------------------------

    def search(self, query: str, document_ids: Iterable[int] | None = None, limit: int = 10) -> list[Passage]:
        """Passages ranked by bm25: all terms first, any term when that finds nothing.

        Text in double quotes is matched as a phrase; punctuation never raises a syntax error.
        """
        for any_term in (False, True):
            match = fts_query(query, any_term=any_term)
            if match is None:
                return []
            hits = self._search(match, document_ids, limit)
            if hits or any_term:
                return hits
        return []

    def _search(self, match: str, document_ids: Iterable[int] | None, limit: int) -> list[Passage]:
        sql = (
            "SELECT p.document_id, d.title AS document_title, p.section_id, p.section_title, s.position, "
            'p.idx, p.start, p."end", p.text, '
            "snippet(passages, 0, '[', ']', '…', 24) AS snippet, bm25(passages, 1.0, 0.3) AS score "
            "FROM passages p JOIN documents d ON d.id = p.document_id JOIN sections s ON s.id = p.section_id "
            "WHERE passages MATCH ?"
        )
        params: list[Any] = [match]
        if document_ids is not None:
            ids = [int(i) for i in document_ids]
            if not ids:
                return []
            sql += f" AND p.document_id IN ({', '.join('?' * len(ids))})"
            params += ids
        sql += " ORDER BY score LIMIT ?"
        params.append(int(limit))
        return [
            Passage(r["document_id"], r["document_title"], r["section_id"], r["section_title"], r["position"],
                    r["idx"], r["start"], r["end"], r["text"], r["snippet"], r["score"])
            for r in self._rows(sql, params)
        ]

    # --- chunks ---------------------------------------------------------------------------

    def store_chunks(self, document_id: int, tokenizer: str, chunks: Iterable[Chunk]) -> int:
        """Replace the document's chunks for ``tokenizer``; returns the total token count."""
        if self.get_document(document_id) is None:
            raise LibraryError(f"There is no document {document_id} in the library.")
        total = 0
        with self._write() as db:
            db.execute("DELETE FROM chunks WHERE document_id = ? AND tokenizer = ?", [document_id, tokenizer])
            rows = []
            for position, chunk in enumerate(chunks):
                rows.append((document_id, chunk.section_id, tokenizer, position, chunk.start, chunk.text, chunk.tokens))
                total += chunk.tokens
            db.conn.executemany(
                "INSERT INTO chunks (document_id, section_id, tokenizer, position, start, text, tokens) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
        return total

    def chunks(self, document_id: int, tokenizer: str) -> list[Chunk]:
        """Stored chunks in order (empty when the document was never chunked for this tokenizer)."""
        rows = self._rows(
            "SELECT * FROM chunks WHERE document_id = ? AND tokenizer = ? ORDER BY position", [document_id, tokenizer]
        )
        return [Chunk(r["text"], r["tokens"], r["section_id"], r["start"], r["position"], r["id"]) for r in rows]

    def token_count(self, document_id: int, tokenizer: str) -> int | None:
        rows = self._rows(
            "SELECT COUNT(*) AS n, SUM(tokens) AS t FROM chunks WHERE document_id = ? AND tokenizer = ?",
            [document_id, tokenizer],
        )
        return int(rows[0]["t"]) if rows[0]["n"] else None

    # --- memories -------------------------------------------------------------------------
    # A memory is addressed by its id or its (unique) name: the CLI and jobs speak names, the
    # GUI may hold ids. Rows are plain dicts.

    _MEMORY_FIELDS = {"backbone", "backbone_fingerprint", "path", "settings", "status", "message",
                      "tokens_done", "tokens_total", "ppl", "stream", "pid"}

    def _memory_row(self, memory: int | str) -> dict[str, Any] | None:
        column = "name" if isinstance(memory, str) else "id"
        rows = self._rows(f"SELECT * FROM memories WHERE {column} = ?", [memory])
        return rows[0] if rows else None

    def _memory_id(self, memory: int | str) -> int:
        row = self._memory_row(memory)
        if row is None:
            raise LibraryError(f"There is no memory {memory!r} in the library.")
        return row["id"]

    def _memory(self, row: dict[str, Any]) -> dict[str, Any]:
        memory = dict(row)
        memory["settings"] = json.loads(memory["settings"])
        memory["path"] = resolve_memory_path(memory["path"])
        deleted = self._rows(
            "SELECT COUNT(*) AS n FROM memory_sources WHERE memory_id = ? AND status = 'deleted'", [row["id"]]
        )
        memory["has_deleted_sources"] = bool(deleted[0]["n"])
        return memory

    def create_memory(self, name: str, backbone: str | None = None, path: str | None = None,
                      settings: dict[str, Any] | None = None, status: str = "queued") -> dict[str, Any]:
        name = name.strip()
        if not name:
            raise LibraryError("A memory needs a name.")
        self._check_status(status)
        now = _now()
        with self._write() as db:
            if self._memory_row(name) is not None:
                raise LibraryError(f"A memory named {name!r} already exists; choose another name.")
            cursor = db.execute(
                "INSERT INTO memories (name, backbone, path, settings, status, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [name, backbone, path, json.dumps(settings or {}, sort_keys=True), status, now, now],
            )
        memory = self.get_memory(cursor.lastrowid)
        assert memory is not None
        return memory

    def get_memory(self, memory: int | str) -> dict[str, Any] | None:
        """The memory's row (by id or name), or None when there is none."""
        row = self._memory_row(memory)
        return self._memory(row) if row else None

    def list_memories(self, status: str | None = None) -> list[dict[str, Any]]:
        if status:
            rows = self._rows("SELECT * FROM memories WHERE status = ? ORDER BY id", [status])
        else:
            rows = self._rows("SELECT * FROM memories ORDER BY id")
        return [self._memory(r) for r in rows]

    @staticmethod
    def _check_status(status: str) -> None:
        if status not in MEMORY_STATUSES:
            raise LibraryError(f"{status!r} is not a memory status (use one of {', '.join(MEMORY_STATUSES)}).")

    def update_memory(self, memory: int | str, **fields: Any) -> dict[str, Any]:
        """Set any of status, message, progress (tokens_done, tokens_total, ppl), path, settings,
        backbone, backbone_fingerprint, stream, pid."""
        unknown = set(fields) - self._MEMORY_FIELDS
        if unknown:
            raise TypeError(f"update_memory() got unknown fields: {sorted(unknown)}")
        if "status" in fields:
            self._check_status(fields["status"])
        if "settings" in fields:
            fields["settings"] = json.dumps(fields["settings"] or {}, sort_keys=True)
        memory_id = self._memory_id(memory)
        fields["updated"] = _now()
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self._write() as db:
            db.execute(f"UPDATE memories SET {assignments} WHERE id = ?", [*fields.values(), memory_id])
        result = self.get_memory(memory_id)
        assert result is not None
        return result

    def rename_memory(self, memory: int | str, new_name: str) -> dict[str, Any]:
        new_name = new_name.strip()
        if not new_name:
            raise LibraryError("A memory needs a name.")
        memory_id = self._memory_id(memory)
        other = self._memory_row(new_name)
        if other is not None and other["id"] != memory_id:
            raise LibraryError(f"A memory named {new_name!r} already exists; choose another name.")
        with self._write() as db:
            db.execute("UPDATE memories SET name = ?, updated = ? WHERE id = ?", [new_name, _now(), memory_id])
        result = self.get_memory(memory_id)
        assert result is not None
        return result

    def delete_memory(self, memory: int | str) -> dict[str, Any]:
        """Remove the memory's rows (its files are the caller's to delete); history keeps the Q&A."""
        row = self.get_memory(memory)
        if row is None:
            raise LibraryError(f"There is no memory {memory!r} in the library.")
        with self._write() as db:
            db.execute("DELETE FROM memory_sources WHERE memory_id = ?", [row["id"]])
            db.execute("DELETE FROM memory_sections WHERE memory_id = ?", [row["id"]])
            db.execute("UPDATE qa_history SET memory_id = NULL WHERE memory_id = ?", [row["id"]])
            db.execute("DELETE FROM memories WHERE id = ?", [row["id"]])
        return row

    def add_memory_source(self, memory: int | str, document_id: int, tokens: int = 0,
                          status: str = "pending") -> dict[str, Any]:
        """Append a document to the memory's ordered sources (no-op when it already holds it)."""
        memory_id = self._memory_id(memory)
        doc = self.get_document(document_id)
        if doc is None:
            raise LibraryError(f"There is no document {document_id} in the library.")
        if status not in SOURCE_STATUSES:
            raise LibraryError(f"{status!r} is not a source status (use one of {', '.join(SOURCE_STATUSES)}).")
        with self._write() as db:
            held = list(db.query("SELECT * FROM memory_sources WHERE memory_id = ? AND document_id = ? "
                                 "AND status != 'deleted'", [memory_id, document_id]))
            if held:
                return held[0]
            row = next(db.query("SELECT COALESCE(MAX(position) + 1, 0) AS p FROM memory_sources "
                                "WHERE memory_id = ?", [memory_id]))
            cursor = db.execute(
                "INSERT INTO memory_sources (memory_id, document_id, document_title, position, tokens, status) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [memory_id, document_id, doc.title, row["p"], tokens, status],
            )
        return self._rows("SELECT * FROM memory_sources WHERE id = ?", [cursor.lastrowid])[0]

    def update_memory_source(self, memory: int | str, document_id: int, **fields: Any) -> None:
        """Set tokens and/or status of the memory's source ``document_id``."""
        unknown = set(fields) - {"tokens", "status"}
        if unknown:
            raise TypeError(f"update_memory_source() got unknown fields: {sorted(unknown)}")
        if "status" in fields and fields["status"] not in SOURCE_STATUSES:
            raise LibraryError(f"{fields['status']!r} is not a source status.")
        memory_id = self._memory_id(memory)
        if fields:
            with self._write() as db:
                db.execute(
                    f"UPDATE memory_sources SET {', '.join(f'{k} = ?' for k in fields)} "
                    "WHERE memory_id = ? AND document_id = ? AND status != 'deleted'",
                    [*fields.values(), memory_id, document_id],
                )

    def remove_memory_source(self, memory: int | str, document_id: int) -> None:
        """Forget that the memory was to hold the document (it never finished memorizing it)."""
        memory_id = self._memory_id(memory)
        with self._write() as db:
            db.execute("DELETE FROM memory_sources WHERE memory_id = ? AND document_id = ?", [memory_id, document_id])
            db.execute("DELETE FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'pending'",
                       [memory_id, document_id])

    def memory_sources(self, memory: int | str) -> list[dict[str, Any]]:
        """The memory's documents in memorizing order; status 'deleted' once a document is removed."""
        row = self._memory_row(memory)
        if row is None:
            return []
        return self._rows("SELECT * FROM memory_sources WHERE memory_id = ? ORDER BY position", [row["id"]])

    # --- notes folders: sync, and which note versions a memory holds -------------------------

    def find_notes_folder(self, source_path: str) -> DocumentInfo | None:
        """The notes document imported from ``source_path`` (a resolved folder path), if any."""
        rows = self._rows("SELECT * FROM documents WHERE kind = 'notes' AND source_path = ? ORDER BY id",
                          [source_path])
        return self._document_info(rows[0]) if rows else None

    def _note_rows(self, document_id: int) -> list[dict[str, Any]]:
        rows = self._rows("SELECT id, position, title, text, meta FROM sections WHERE document_id = ? ORDER BY position",
                          [document_id])
        for r in rows:
            r["meta"] = json.loads(r["meta"])
            r["path"] = r["meta"].get("path") or f"#{r['position']}"
            r["hash"] = r["meta"].get("hash") or section_hash(r["title"], r["text"])
        return rows

    def sync_notes(self, doc: Document) -> NotesSync:
        """Bring the stored notes document from the same folder in step with ``doc``, in one transaction.

        Notes are matched by their relative path and compared by content hash: a changed note
        keeps its section id (citations and memory records still point at it) and gets new text
        and index rows; new notes are inserted, deleted ones removed. The first import of a
        folder simply stores it.
        """
        existing = self.find_notes_folder(doc.source_path)
        if existing is None:
            document_id = self.add_document(doc)
            added = [NoteChange(s.id, s.meta.get("path", ""), s.title) for s in self.sections(document_id)]
            return NotesSync(document_id, created=True, added=added)
        document_id = existing.id
        old = {r["path"]: r for r in self._note_rows(document_id)}
        result = NotesSync(document_id)
        with self._write() as db:
            new_paths = {s.meta.get("path") for s in doc.sections}
            gone = [r for path, r in old.items() if path not in new_paths]
            for position, section in enumerate(doc.sections):
                before = old.get(section.meta.get("path"))
                meta = json.dumps(section.meta, ensure_ascii=False)
                if before is None:
                    section_id = self._insert_section(db, document_id, position, section)
                    result.added.append(NoteChange(section_id, section.meta.get("path", ""), section.title))
                elif before["hash"] != section.meta.get("hash"):
                    db.execute("UPDATE sections SET position = ?, title = ?, text = ?, characters = ?, meta = ? "
                               "WHERE id = ?",
                               [position, section.title, section.text, len(section.text), meta, before["id"]])
                    db.execute("DELETE FROM passages WHERE section_id = ?", [before["id"]])
                    self._index_section(db, document_id, before["id"], section)
                    result.changed.append(NoteChange(before["id"], before["path"], section.title))
                else:
                    db.execute("UPDATE sections SET position = ?, meta = ? WHERE id = ?", [position, meta, before["id"]])
                    result.unchanged += 1
            if result.changed or result.added or gone:
                db.execute("DELETE FROM chunks WHERE document_id = ?", [document_id])  # token cache is stale
            for r in gone:
                db.execute("DELETE FROM passages WHERE section_id = ?", [r["id"]])
                db.execute("DELETE FROM sections WHERE id = ?", [r["id"]])
                result.deleted.append(NoteChange(r["id"], r["path"], r["title"]))
            db.execute("UPDATE documents SET content_hash = ?, sections = ?, characters = ?, meta = ? WHERE id = ?",
                       [doc.content_hash, len(doc.sections), doc.characters,
                        json.dumps(doc.meta, ensure_ascii=False), document_id])
        return result

    def unheld_sections(self, memory: int | str, document_id: int) -> list[SectionInfo]:
        """The document's sections whose current version the memory does not hold (new or changed notes)."""
        memory_id = self._memory_id(memory)
        held = {r["section_hash"] for r in self._rows(
            "SELECT section_hash FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'done'",
            [memory_id, document_id])}
        ids = {r["id"] for r in self._note_rows(document_id) if r["hash"] not in held}
        return [s for s in self.sections(document_id) if s.id in ids]

    def set_pending_sections(self, memory: int | str, document_id: int, section_ids: Iterable[int]) -> None:
        """Plan to memorize only these sections of the document into the memory (the next job
        for it, or its resume, reads the plan with ``pending_sections``)."""
        memory_id = self._memory_id(memory)
        wanted = set(section_ids)
        rows = [r for r in self._note_rows(document_id) if r["id"] in wanted]
        self.add_memory_source(memory_id, document_id, status="pending")
        with self._write() as db:
            db.execute("DELETE FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'pending'",
                       [memory_id, document_id])
            db.conn.executemany(
                "INSERT OR IGNORE INTO memory_sections (memory_id, document_id, section_hash, path, title, status, "
                "updated) VALUES (?, ?, ?, ?, ?, 'pending', ?)",
                [(memory_id, document_id, r["hash"], r["path"], r["title"], _now()) for r in rows],
            )
            db.execute("UPDATE memory_sources SET status = 'pending' WHERE memory_id = ? AND document_id = ? "
                       "AND status != 'deleted'", [memory_id, document_id])

    def pending_sections(self, memory: int | str, document_id: int) -> list[int] | None:
        """Section ids planned by ``set_pending_sections``, in document order; None when there is
        no plan (the whole document is to be memorized)."""
        memory_id = self._memory_id(memory)
        planned = {r["section_hash"] for r in self._rows(
            "SELECT section_hash FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'pending'",
            [memory_id, document_id])}
        if not planned:
            return None
        return [r["id"] for r in self._note_rows(document_id) if r["hash"] in planned]

    def mark_sections_held(self, memory: int | str, document_id: int, tokens: dict[int, int]) -> None:
        """Record that the memory now holds these sections ({section id: tokens}); clears the plan."""
        memory_id = self._memory_id(memory)
        rows = [r for r in self._note_rows(document_id) if r["id"] in tokens]
        with self._write() as db:
            db.execute("DELETE FROM memory_sections WHERE memory_id = ? AND document_id = ? AND status = 'pending'",
                       [memory_id, document_id])
            db.conn.executemany(
                "INSERT OR REPLACE INTO memory_sections (memory_id, document_id, section_hash, path, title, tokens, "
                "status, updated) VALUES (?, ?, ?, ?, ?, ?, 'done', ?)",
                [(memory_id, document_id, r["hash"], r["path"], r["title"], tokens[r["id"]], _now()) for r in rows],
            )

    def held_sections(self, memory: int | str, document_id: int | None = None) -> list[dict[str, Any]]:
        """The section versions the memory holds (path, title, section_hash, tokens), oldest first."""
        memory_id = self._memory_id(memory)
        sql = "SELECT * FROM memory_sections WHERE memory_id = ? AND status = 'done'"
        params: list[Any] = [memory_id]
        if document_id is not None:
            sql += " AND document_id = ?"
            params.append(document_id)
        return self._rows(sql + " ORDER BY id", params)

    def stale_sections(self, memory: int | str, document_id: int) -> list[dict[str, Any]]:
        """Held versions no longer in the document: notes deleted since, or older versions of edited ones.

        Each row gets ``deleted``: True when no note at that path exists any more.
        """
        current = self._note_rows(document_id)
        hashes = {r["hash"] for r in current}
        paths = {r["path"] for r in current}
        stale = [r for r in self.held_sections(memory, document_id) if r["section_hash"] not in hashes]
        for r in stale:
            r["deleted"] = r["path"] not in paths
        return stale

    def memories_holding(self, document_id: int) -> list[dict[str, Any]]:
        """The memories that hold (part of) the document."""
        rows = self._rows("SELECT DISTINCT memory_id FROM memory_sources WHERE document_id = ? AND status != 'deleted' "
                          "ORDER BY memory_id", [document_id])
        return [m for m in (self.get_memory(r["memory_id"]) for r in rows) if m is not None]

    # --- question and answer history --------------------------------------------------------

    def add_history(self, question: str, answer: str, memory: int | str | None = None,
                    citations: list[Any] | None = None, options: dict[str, Any] | None = None) -> int:
        """Record a question and its answer (memory: the one memory used, or None)."""
        memory_id = self._memory_id(memory) if memory is not None else None
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO qa_history (memory_id, question, answer, citations, options, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [memory_id, question, answer, json.dumps(citations or [], ensure_ascii=False, default=jsonable),
                 json.dumps(options or {}, sort_keys=True, default=jsonable), _now()],
            )
        return cursor.lastrowid

    def history(self, memory: int | str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """Questions and answers, oldest first (all when memory is None; the last ``limit``)."""
        sql = ("SELECT h.*, m.name AS memory FROM qa_history h LEFT JOIN memories m ON m.id = h.memory_id")
        params: list[Any] = []
        if memory is not None:
            row = self._memory_row(memory)
            if row is None:
                return []
            sql += " WHERE h.memory_id = ?"
            params.append(row["id"])
        sql += " ORDER BY h.id"
        rows = self._rows(sql, params)
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        for r in rows:
            r["citations"] = json.loads(r["citations"])
            r["options"] = json.loads(r["options"])
        return rows

    list_history = history

    # --- diagnostics ----------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        """Row count per table (tests use it to prove a failed import changed nothing)."""
        tables = ["documents", "sections", "chunks", "passages", "memories", "memory_sources", "qa_history"]
        return {t: self._rows(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in tables}
