"""What every part of the library shares: the open connection, and two ways to use it.

The repositories (documents, memories, notes, history) are mixins over this one store, so a
``Library`` is one connection whichever part a caller uses; it belongs to the thread that opened
it (the rule is in app/dbconn.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from ..dbconn import translate_errors
from ..errors import UserError


class LibraryError(UserError):
    """A library operation was refused; the message is a sentence for the user."""


def now() -> str:
    """A row's timestamp: UTC, to the second, ISO 8601."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Store:
    """The library file's connection."""

    path: Path
    db: Database

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """One transaction: everything written inside commits together or not at all."""
        with translate_errors(self.path), self.db.atomic():
            yield self.db

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[dict[str, Any]]:
        with translate_errors(self.path):
            return list(self.db.query(sql, list(params)))
