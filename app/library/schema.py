"""The library's schema: the released migrations, and bringing a file up to date.

Append only: a released migration's effect is never changed, so any older library file can be
brought to the current schema step by step; a file written by a newer release is refused, not
guessed at. Several processes may open a new or older file at once (the window and a command on
the very first run): ``migrate`` lets one of them migrate while the others wait, then find it
current.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from .store import LibraryError, now


def _statements(db: Database, script: str) -> None:
    """Run each statement of ``script`` on its own, inside the open transaction: sqlite3's
    ``executescript`` would COMMIT that transaction first (and whether sqlite-utils' wrapper
    avoids it depends on its version)."""
    pending = ""
    for piece in script.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            if pending.strip(" \n;"):
                db.conn.execute(pending)
            pending = ""


def _migration_1(db: Database) -> None:
    """Initial schema."""
    _statements(
        db,
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
    _statements(
        db,
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


def _migration_3(db: Database) -> None:
    """Drop the token-chunk cache: nothing read it but its own tests (memorization tokenizes the
    text it memorizes), and its rows, referencing sections, only made deletes longer."""
    _statements(db, "DROP INDEX IF EXISTS chunks_document; DROP TABLE IF EXISTS chunks;")


def _migration_4(db: Database) -> None:
    """Memories keep their settings in their own files (app/memorize/specs.py), the row only
    status and a path: each row's settings are written to its memory's spec file when that has
    none, then the column is dropped (sqlite-utils' transform: a copy of the table, in this
    transaction, on any SQLite version)."""
    from ..memorize.paths import resolve_memory_path
    from ..memorize.specs import adopt_row_settings  # here only: it reads memory files (numpy)

    for row in db.query("SELECT name, path, settings FROM memories"):
        path = resolve_memory_path(row["path"])
        if not path:
            continue
        try:
            adopt_row_settings(row["name"], Path(path), json.loads(row["settings"] or "{}"))
        except OSError as exc:
            raise LibraryError(
                f"The settings of memory '{row['name']}' could not be written beside its files "
                f"({exc}); make the folder {Path(path).parent} writable and start again."
            ) from exc
    db["memories"].transform(drop={"settings"})


# (version, name, function). Append only; never edit a released migration.
MIGRATIONS: list[tuple[int, str, Callable[[Database], None]]] = [
    (1, "initial schema", _migration_1),
    (2, "memory sections", _migration_2),
    (3, "drop the chunk cache", _migration_3),
    (4, "memory settings in the memory's files", _migration_4),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


def _applied(db: Database, path: Path) -> set[int]:
    """The versions the file's migrations table lists; a newer schema than this app's is refused."""
    if not db.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'migrations'").fetchone():
        return set()
    done = {row[0] for row in db.conn.execute("SELECT version FROM migrations")}
    newer = [v for v in done if v > SCHEMA_VERSION]
    if newer:
        raise LibraryError(
            f"The library at {path} was written by a newer Locas Reader (schema {max(newer)}); "
            "please update the app."
        )
    return done


@contextmanager
def _write_lock(conn: sqlite3.Connection) -> Iterator[None]:
    """One ``BEGIN IMMEDIATE`` transaction: it takes the write lock at once (waiting up to the busy
    timeout for another process's), so nothing else writes between what it reads and what it
    writes; it commits only if everything inside succeeded, else rolls back. Python's implicit
    transaction handling is off meanwhile, so every BEGIN and COMMIT is this one's."""
    level = conn.isolation_level
    conn.isolation_level = None  # (changing it while no transaction is open commits nothing)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    finally:
        conn.isolation_level = level


def migrate(db: Database, path: Path) -> None:
    """Bring the file to the current schema, safely when several processes open it at once.

    A current file is only read. Otherwise every missing step runs in one transaction that holds
    the write lock and reads which steps are done again once it has it: a process that waited
    for another's migration finds the schema current and runs nothing. A failed step rolls the
    whole transaction back, so the file is left as it was before.
    """
    if _applied(db, path) >= {version for version, _, _ in MIGRATIONS}:
        return
    with _write_lock(db.conn):
        done = _applied(db, path)  # again, under the lock: another process may have migrated
        db.conn.execute(
            "CREATE TABLE IF NOT EXISTS migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied TEXT NOT NULL)"
        )
        for version, name, step in MIGRATIONS:
            if version in done:
                continue
            step(db)
            if not db.conn.in_transaction:
                raise RuntimeError(f"migration {version} ({name}) ended the migration's transaction early")
            db.conn.execute("INSERT INTO migrations (version, name, applied) VALUES (?, ?, ?)", [version, name, now()])
