"""Opening the library's SQLite file, the one rule for connections, and what errors mean to a person.

The rule: one connection per thread. The thread that opens a ``Library`` is the only one that
uses and closes it; a thread that needs the library opens its own (the GUI thread for light
reads, the GUI's task thread for imports and edits, the engine worker in its Session, the CLI's
main thread). SQLite enforces it (``check_same_thread``), so a connection handed to another
thread fails at once instead of interleaving two threads' transactions.

The window and the command line may use one library at once. WAL mode lets readers go on while
one connection writes, and the busy timeout makes a writer wait for another's transaction instead
of failing at once; only a lock held longer than that (a stuck process) becomes a sentence.
A file that is not a Locas library (junk, truncated, another program's database) is never
written to: it is refused with a sentence saying what to do.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.errors import UserError
from app.paths import private_dir, private_file

BUSY_TIMEOUT_S = 30.0  # how long a write waits for another process's transaction


class LibraryBusy(UserError):
    """Another process held the library's lock for longer than the busy timeout."""


class LibraryDamaged(UserError):
    """The library file cannot be read as a Locas library."""


def damaged(path: Path, why: str) -> LibraryDamaged:
    return LibraryDamaged(
        f"The library file {path} {why}. Nothing was changed. Move it away (Locas Reader then starts "
        "a new, empty library) or put back a backup copy."
    )


def open_connection(path: Path) -> sqlite3.Connection:
    """A connection to the library file (created private if new), checked to be ours."""
    private_dir(path.parent)
    # Before SQLite opens it: a new -wal and -shm copy these permissions; older ones are fixed.
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if p == path or p.exists():
            private_file(p)
    conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)  # check_same_thread: the rule above
    try:
        with translate_errors(path):
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables and "migrations" not in tables:
                raise damaged(path, "is another program's database, not a Locas library")
            conn.execute("PRAGMA foreign_keys = ON")
            _use_wal(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _use_wal(conn: sqlite3.Connection) -> None:
    """WAL mode, set before any transaction (it cannot change inside one). Processes opening a
    new library at once can get 'database is locked' from this pragma at once, without SQLite's
    busy handler waiting (about 1 open in 120 with 4 processes on a saturated CPU): it is tried
    again until the busy timeout has passed, like any other wait for the lock."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not _busy(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


@contextmanager
def translate_errors(path: Path) -> Iterator[None]:
    """SQLite's busy and corruption errors as sentences naming the library file."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if _busy(exc):
            raise LibraryBusy(
                f"The library {path} is busy: another Locas Reader (the window or a command) has been "
                f"writing to it for over {BUSY_TIMEOUT_S:.0f} seconds. Nothing was changed; wait for "
                "it to finish, then try again."
            ) from exc
        if "disk i/o" in text or "malformed" in text:
            raise damaged(path, "is damaged") from exc
        raise
    except sqlite3.DatabaseError as exc:
        if isinstance(exc, sqlite3.IntegrityError):
            raise
        text = str(exc).lower()
        if "not a database" in text or "malformed" in text or "encrypted" in text:
            raise damaged(path, "is damaged or is not a library (it is not an SQLite database)") from exc
        raise
