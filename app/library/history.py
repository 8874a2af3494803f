"""The questions asked and their answers, with the passages cited and the options used."""

from __future__ import annotations

import json
from dataclasses import asdict, is_dataclass
from typing import Any

from .store import Store, now


def jsonable(value: Any) -> Any:
    """Passages and other dataclasses stored in history as plain dicts."""
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


class HistoryRepo(Store):
    """Q&A history (a memory is named by id or name, through MemoriesRepo)."""

    def add_history(self, question: str, answer: str, memory: int | str | None = None,
                    citations: list[Any] | None = None, options: dict[str, Any] | None = None) -> int:
        """Record a question and its answer (memory: the one memory used, or None)."""
        memory_id = self._memory_id(memory) if memory is not None else None
        with self._write() as db:
            cursor = db.execute(
                "INSERT INTO qa_history (memory_id, question, answer, citations, options, created) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [memory_id, question, answer, json.dumps(citations or [], ensure_ascii=False, default=jsonable),
                 json.dumps(options or {}, sort_keys=True, default=jsonable), now()],
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
