"""A broken or busy library file, and two processes importing at once: sentences, no damage."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from app import dbconn
from app.cli import main
from app.library import Library


def _library_file(locas_home: Path) -> Path:
    return locas_home / "library.db"


@pytest.mark.parametrize("content", [b"junk" * 2000, b"SQLite format 3\x00" + b"\x00" * 50])
def test_junk_or_truncated_library_is_refused_and_left_alone(locas_home, capsys, content, texts):
    db = _library_file(locas_home)
    db.write_bytes(content)
    assert main(["import", str(texts[0])]) == 1
    err = capsys.readouterr().err
    assert str(db) in err and "Move it away" in err and "Traceback" not in err
    assert db.read_bytes() == content


def test_truncated_real_library_is_a_sentence(locas_home, texts, capsys):
    with Library() as lib:
        for p in texts:
            lib.import_file(p)
    db = _library_file(locas_home)
    data = db.read_bytes()
    db.write_bytes(data[: len(data) // 3])
    for extra in ("-wal", "-shm"):
        Path(str(db) + extra).unlink(missing_ok=True)
    status = main(["list"])
    err = capsys.readouterr().err
    assert status == 1 and "library file" in err and "Traceback" not in err


def test_another_programs_sqlite_file_is_not_touched(locas_home, texts, capsys):
    db = _library_file(locas_home)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE contacts (name TEXT)")
    conn.commit()
    conn.close()
    before = db.read_bytes()
    assert main(["import", str(texts[0])]) == 1
    assert "another program's database" in capsys.readouterr().err
    assert db.read_bytes() == before


def test_a_library_held_by_another_process_gives_a_sentence(locas_home, texts, capsys, monkeypatch):
    Library().close()
    monkeypatch.setattr(dbconn, "BUSY_TIMEOUT_S", 0.3)
    holder = sqlite3.connect(_library_file(locas_home), timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # another process in the middle of a long write
    try:
        assert main(["import", str(texts[0])]) == 1
        err = capsys.readouterr().err
        assert "busy" in err and "try again" in err and "Traceback" not in err
    finally:
        holder.rollback()
        holder.close()
    with Library() as lib:
        assert lib.counts()["documents"] == 0  # nothing half-imported
    assert main(["import", str(texts[0])]) == 0  # and it works once the other is done


def test_a_short_lock_is_waited_for(locas_home, texts):
    Library().close()
    holder = sqlite3.connect(_library_file(locas_home), timeout=0, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    threading.Timer(0.5, holder.rollback).start()
    with Library() as lib:
        assert not lib.import_file(texts[0]).duplicate
    holder.close()


def test_the_duplicate_check_racing_the_insert_reads_as_already_imported(locas_home, texts, monkeypatch):
    """Two processes import one file: both find no duplicate, one insert wins, the other reports
    'already imported' instead of an IntegrityError."""
    first, second = Library(), Library()
    real = Library.find_by_hash
    calls = {"n": 0}

    def racing(self, content_hash):
        calls["n"] += 1
        if calls["n"] == 1:  # the second process's check ran before the first one's insert
            first.import_file(texts[0])
            return None
        return real(self, content_hash)

    monkeypatch.setattr(Library, "find_by_hash", racing)
    info = second.import_file(texts[0])
    assert info.duplicate and second.counts()["documents"] == 1
    first.close()
    second.close()


def test_concurrent_imports_of_one_file(locas_home, texts, in_threads):
    Library().close()  # the file exists (and is migrated) before the imports race
    results = []

    def run():
        with Library() as lib:  # each thread its own connection (app/dbconn.py)
            results.append(lib.import_file(texts[0]))

    assert in_threads(run, 4) == []
    assert len({r.id for r in results}) == 1 and sum(not r.duplicate for r in results) == 1
    with Library() as lib:
        assert lib.counts()["documents"] == 1


class _WalRefused(sqlite3.Connection):
    """A connection whose first 'PRAGMA journal_mode = WAL' calls fail at once with 'database is
    locked', as they do when another process turns a new library to WAL under it (issue 33)."""

    refusals = 0

    def execute(self, sql, *args):
        if sql.startswith("PRAGMA journal_mode") and _WalRefused.refusals:
            _WalRefused.refusals -= 1
            raise sqlite3.OperationalError("database is locked")
        return super().execute(sql, *args)


def _refuse_wal(monkeypatch, times: int) -> None:
    real = sqlite3.connect
    monkeypatch.setattr(_WalRefused, "refusals", times)
    monkeypatch.setattr(sqlite3, "connect", lambda *a, **k: real(*a, factory=_WalRefused, **k))


def test_wal_mode_refused_at_once_is_tried_again(locas_home, monkeypatch):
    _refuse_wal(monkeypatch, 3)
    with Library() as lib:
        assert lib.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert _WalRefused.refusals == 0


def test_wal_mode_refused_past_the_busy_timeout_is_a_sentence(locas_home, texts, monkeypatch, capsys):
    monkeypatch.setattr(dbconn, "BUSY_TIMEOUT_S", 0.2)
    _refuse_wal(monkeypatch, 10**6)
    assert main(["import", str(texts[0])]) == 1
    err = capsys.readouterr().err
    assert "busy" in err and "try again" in err and "Traceback" not in err
