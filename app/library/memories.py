"""Memories in the library: their rows, and the ordered documents each one holds (its sources).

A memory is addressed by its id or its (unique) name: the CLI and jobs speak names, the GUI may
hold ids. Rows are plain dicts of their columns; the memory's file is the caller's (app/memories.py).
"""

from __future__ import annotations

from typing import Any

from ..memorize.paths import resolve_memory_path
from .records import MEMORY_STATUSES, SOURCE_STATUSES
from .store import LibraryError, Store, now


class MemoriesRepo(Store):
    """Memory rows and memory sources (``get_document`` comes from DocumentsRepo)."""

    # Status and a path: what the memory is and how it is trained live in its files
    # (app/memorize/specs.py).
    _MEMORY_FIELDS = {"backbone", "backbone_fingerprint", "path", "status", "message",
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
        memory["path"] = resolve_memory_path(memory["path"])
        deleted = self._rows(
            "SELECT COUNT(*) AS n FROM memory_sources WHERE memory_id = ? AND status = 'deleted'", [row["id"]]
        )
        memory["has_deleted_sources"] = bool(deleted[0]["n"])
        return memory

    def create_memory(self, name: str, backbone: str | None = None, path: str | None = None,
                      status: str = "queued") -> dict[str, Any]:
        name = name.strip()
        if not name:
            raise LibraryError("A memory needs a name.")
        self._check_status(status)
        stamp = now()
        with self._write() as db:
            if self._memory_row(name) is not None:
                raise LibraryError(f"A memory named {name!r} already exists; choose another name.")
            cursor = db.execute(
                "INSERT INTO memories (name, backbone, path, status, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [name, backbone, path, status, stamp, stamp],
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
        """Set any of status, message, progress (tokens_done, tokens_total, ppl), path,
        backbone, backbone_fingerprint, stream, pid."""
        unknown = set(fields) - self._MEMORY_FIELDS
        if unknown:
            raise TypeError(f"update_memory() got unknown fields: {sorted(unknown)}")
        if "status" in fields:
            self._check_status(fields["status"])
        memory_id = self._memory_id(memory)
        fields["updated"] = now()
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
            db.execute("UPDATE memories SET name = ?, updated = ? WHERE id = ?", [new_name, now(), memory_id])
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

    def memories_holding(self, document_id: int) -> list[dict[str, Any]]:
        """The memories that hold (part of) the document."""
        rows = self._rows("SELECT DISTINCT memory_id FROM memory_sources WHERE document_id = ? AND status != 'deleted' "
                          "ORDER BY memory_id", [document_id])
        return [m for m in (self.get_memory(r["memory_id"]) for r in rows) if m is not None]
