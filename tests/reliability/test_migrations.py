"""Bringing a library file up to date: one transaction holding the write lock, so that processes
or threads opening a new or older library at once migrate it once, and a failed step changes
nothing (issue 33). The race between processes: test_first_open_race.py."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from sqlite_utils import Database

from app.dbconn import open_connection
from app.library import SCHEMA_VERSION, Library, LibraryError, schema
from app.library.schema import migrate

CONTROL = ("BEGIN", "COMMIT", "END", "ROLLBACK")


def _as_schema_3(path: Path) -> None:
    """A library as release 3 left it: memories' settings in their rows, one memory holding a
    document (a foreign key into the table migration 4 rebuilds)."""
    with Library(path) as lib:
        lib.import_file(_write(path.parent / "story.txt", "The keeper climbed the steps. " * 50))
        lib.create_memory("old")
        lib.add_memory_source("old", 1)
    conn = sqlite3.connect(path)
    conn.executescript("ALTER TABLE memories ADD COLUMN settings TEXT NOT NULL DEFAULT '{}';"
                       "DELETE FROM migrations WHERE version = 4;")
    conn.close()


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _dump(path: Path) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [line for line in conn.iterdump() if "'applied'" not in line]
    finally:
        conn.close()


def _traced_migration(path: Path) -> list[str]:
    """The transaction statements a migration of ``path`` runs, as SQLite saw them."""
    db = Database(open_connection(path))
    seen: list[str] = []
    db.conn.set_trace_callback(seen.append)
    try:
        migrate(db, path)
    finally:
        db.close()
    return [s.strip().upper() for s in seen if s.strip().upper().startswith(CONTROL)]


@pytest.mark.parametrize("start", ["new", "schema 3"])
def test_every_step_runs_in_one_immediate_transaction(tmp_path, start):
    """sqlite3's executescript COMMITs first, Python opens and commits transactions implicitly,
    sqlite-utils' helpers manage their own: SQLite's trace shows none of them happen here, on a
    new file (every step) or an older one (migration 4's table rebuild)."""
    path = tmp_path / "library.db"
    if start == "schema 3":
        _as_schema_3(path)
    assert _traced_migration(path) == ["BEGIN IMMEDIATE", "COMMIT"]
    assert _traced_migration(path) == []  # a current file is only read: no write lock taken


def _failing_after(version: int):
    def fail(db):
        raise RuntimeError(f"injected failure after migration {version}")

    steps = []
    for v, name, step in schema.MIGRATIONS:
        if v == version:
            def step(db, real=step):  # noqa: E306 - the real step, then the failure
                real(db)
                fail(db)
        steps.append((v, name, step))
    return steps


def test_a_failed_step_leaves_an_older_library_as_it_was(tmp_path, monkeypatch):
    """Migration 4 rebuilds the memories table, then fails: the rebuild is rolled back."""
    path = tmp_path / "library.db"
    _as_schema_3(path)
    before = _dump(path)
    monkeypatch.setattr(schema, "MIGRATIONS", _failing_after(4))
    with pytest.raises(RuntimeError, match="injected failure after migration 4"):
        Library(path)
    assert _dump(path) == before
    monkeypatch.undo()
    with Library(path) as lib:  # and the next start migrates it
        assert lib.schema_version == SCHEMA_VERSION
        assert "settings" not in lib.db["memories"].columns_dict
        assert [s["document_id"] for s in lib.memory_sources("old")] == [1]


def test_a_failed_step_leaves_a_new_library_empty(tmp_path, monkeypatch):
    path = tmp_path / "library.db"
    monkeypatch.setattr(schema, "MIGRATIONS", _failing_after(3))
    with pytest.raises(RuntimeError, match="after migration 3"):
        Library(path)
    assert _dump(path) == ["BEGIN TRANSACTION;", "COMMIT;"]  # no table: steps 1 to 3 undone
    monkeypatch.undo()
    with Library(path) as lib:
        assert lib.schema_version == SCHEMA_VERSION


def test_a_step_refused_with_a_sentence_changes_nothing(tmp_path, monkeypatch, capsys):
    """A step's own sentence (LibraryError) reaches the user, and the file is as it was."""
    from app.cli import main

    path = tmp_path / "library.db"
    _as_schema_3(path)
    before = _dump(path)

    def refuse(db):
        raise LibraryError("The settings of memory 'old' could not be written beside its files.")

    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS[:3], (4, "refused", refuse)])
    assert main(["list", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert "could not be written" in err and "Traceback" not in err
    assert _dump(path) == before


def test_threads_opening_a_new_library_at_once_migrate_it_once(tmp_path, monkeypatch, in_threads):
    """The window's start opens the library on its GUI thread and its engine thread at once: the
    one that waits for the lock finds the schema current and runs no step."""
    runs: dict[int, int] = {}

    def counted(version, step):
        def run(db):
            runs[version] = runs.get(version, 0) + 1
            time.sleep(0.05)  # long enough for the other thread to arrive and wait
            step(db)
        return run

    monkeypatch.setattr(schema, "MIGRATIONS", [(v, n, counted(v, s)) for v, n, s in schema.MIGRATIONS])
    path = tmp_path / "library.db"
    assert in_threads(lambda: Library(path).close(), 3) == []
    assert runs == {v: 1 for v, _, _ in schema.MIGRATIONS}
