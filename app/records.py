"""Helpers for the library's records: dict-like dataclasses, and dataclasses stored as JSON."""

from __future__ import annotations

from typing import Any


class Record:
    """Dataclass records also read like dicts (``doc["title"]``, ``doc.get("kind")``), so code
    written against plain rows and code using attributes both work."""

    def __getitem__(self, key: str) -> Any:
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def keys(self) -> list[str]:
        return list(self.__dataclass_fields__)  # type: ignore[attr-defined]

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key in self.__dataclass_fields__  # type: ignore[attr-defined]


def jsonable(value: Any) -> Any:
    """Passages and other dataclasses stored in history as plain dicts."""
    if hasattr(value, "__dataclass_fields__"):
        from dataclasses import asdict

        return asdict(value)
    return str(value)
