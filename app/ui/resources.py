"""Find the app's icons and style sheet wherever the app runs from.

The assets live in the repository's top-level ``assets/`` folder. A PyInstaller bundle unpacks
them under ``sys._MEIPASS/assets`` and an installed wheel may carry them as package data in
``app/assets``; looking in all three places keeps the rest of the GUI free of path logic.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

from PySide6.QtGui import QIcon, QPixmap

_HERE = Path(__file__).resolve().parent


def asset_roots() -> list[Path]:
    """Candidate asset folders, most specific first (bundle, then package data, then source)."""
    roots: list[Path] = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "assets")
    roots.append(_HERE.parent / "assets")  # app/assets (package data in a wheel)
    roots.append(_HERE.parents[1] / "assets")  # <repo>/assets (source tree)
    return roots


def asset_path(relative: str) -> Path:
    """The first existing file named ``relative`` under an asset root.

    Raises FileNotFoundError naming every folder searched, so a broken bundle says what it lacks.
    """
    for root in asset_roots():
        candidate = root / relative
        if candidate.exists():
            return candidate
    searched = ", ".join(str(r) for r in asset_roots())
    raise FileNotFoundError(f"asset {relative!r} not found in {searched}")


@functools.cache
def icon(name: str) -> QIcon:
    """The SVG icon ``assets/icons/<name>.svg``; an empty icon if missing (never crash the UI)."""
    try:
        return QIcon(str(asset_path(f"icons/{name}.svg")))
    except FileNotFoundError:
        return QIcon()


def pixmap(name: str, size: int) -> QPixmap:
    """A square pixmap of an icon, for labels such as the About box."""
    return icon(name).pixmap(size, size)


def stylesheet() -> str:
    """The app's QSS, or an empty string when the file is missing."""
    try:
        return asset_path("style.qss").read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


KIND_ICONS = {"book": "book", "chat": "chat", "notes": "notes", "memory": "memory"}


def kind_icon(kind: str) -> QIcon:
    """The icon shown beside a library item of the given kind (book, chat, notes, memory)."""
    return icon(KIND_ICONS.get(kind, "notes"))
