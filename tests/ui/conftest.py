"""Fixtures for the GUI tests: an offscreen main window on a fresh library, and message boxes
that record what they would have shown instead of blocking the test on a modal dialog."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtWidgets import QMessageBox  # noqa: E402
from ui_helpers import NOTES, make_fake_window, make_window  # noqa: E402


@pytest.fixture
def notes_file(tmp_path) -> Path:
    path = tmp_path / "garden.md"
    path.write_text(NOTES, encoding="utf-8")
    return path


@pytest.fixture
def small_settings():
    """Settings that make the real model memorize the story in seconds on a CPU."""
    from app.settings import Settings, save_settings

    settings = Settings.of(rank=8, chunk=64, context=64, steps=1, lr=4e-3, output_scale=0.125, checkpoint_every=1,
                        max_new_tokens=12, passages=2, device="cpu")
    save_settings(settings)  # the engine worker's Session reads them from the data folder
    return settings


class Boxes:
    """Stands in for QMessageBox's static functions: records each call, answers `answer`."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str]] = []
        self.defaults: list = []  # each call's default button (what Enter would press), or None
        self.answer = QMessageBox.StandardButton.Yes

    def install(self, monkeypatch) -> None:
        for kind in ("warning", "critical", "information", "question"):
            monkeypatch.setattr(QMessageBox, kind, self._recorder(kind))

    def _recorder(self, kind: str):
        def record(parent, title, text, *args, **kwargs):
            self.calls.append((kind, title, text))
            self.defaults.append(args[1] if len(args) > 1 else kwargs.get("defaultButton"))
            return self.answer if kind == "question" else QMessageBox.StandardButton.Ok

        return staticmethod(record)

    def of(self, kind: str) -> list[tuple[str, str, str]]:
        return [c for c in self.calls if c[0] == kind]


@pytest.fixture(autouse=True)
def boxes(monkeypatch) -> Boxes:
    """Every test: message boxes never block (a modal box offscreen would hang the run)."""
    b = Boxes()
    b.install(monkeypatch)
    return b


@pytest.fixture
def window(qtbot, small_settings, boxes):
    """The main window on an empty library, engine worker running, model not yet loaded."""
    w = make_window(qtbot)
    yield w
    if not w._closing:
        boxes.answer = QMessageBox.StandardButton.Yes
        w.close()


@pytest.fixture
def fake(qtbot, story_file):
    """The main window on a fake engine (the test plays answers and memorizations) with the
    story imported: (window, worker, library, the story's document id)."""
    window, worker = make_fake_window(qtbot)
    library = window.controller.library
    doc_id = library.import_file(story_file).id
    window.refresh()
    yield window, worker, library, doc_id
    window.close()
