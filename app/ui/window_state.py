"""Where the window was left: its size, its splitters and the memory picked, for the next start.

This is GUI state, not a setting (app.settings holds those): a Qt INI file in the data folder,
readable only by the user like everything there (a memory's name can be private).
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow, QSplitter

from app.paths import data_home, private_file

NO_MEMORY_KEY = ""  # the plain model


def _store() -> QSettings:
    path = private_file(data_home() / "window.ini")
    return QSettings(str(path), QSettings.Format.IniFormat)


def save_window_state(window: QMainWindow, splitters: dict[str, QSplitter], memory: str | None) -> None:
    store = _store()
    store.setValue("geometry", window.saveGeometry())
    for name, splitter in splitters.items():
        store.setValue(f"splitter/{name}", splitter.saveState())
    store.setValue("memory", memory or NO_MEMORY_KEY)
    store.sync()


def restore_window_state(window: QMainWindow, splitters: dict[str, QSplitter]) -> str | None:
    """Put the window back as it was left; returns the memory picked then ('' for the plain
    model, None when the window was never closed before)."""
    store = _store()
    geometry = store.value("geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    for name, splitter in splitters.items():
        state = store.value(f"splitter/{name}")
        if isinstance(state, QByteArray) and not state.isEmpty():
            splitter.restoreState(state)
    memory = store.value("memory")
    return None if memory is None else str(memory)
