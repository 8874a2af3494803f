"""Settings > Models on this computer…: pick a model that fits with the keyboard; one that does
not fit says why and cannot be chosen."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from app.models import discover
from app.models.inspect import ModelInfo
from app.settings import Settings
from app.ui.model_manager_dialog import ModelManagerDialog
from app.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.qt


def _found(tmp_path) -> list[ModelInfo]:
    gemma = tmp_path / "gemma.gguf"
    gemma.write_bytes(b"GGUF" + b"\0" * 64)
    return [
        ModelInfo(name="org/mamba-130m", source="Hugging Face cache", path=tmp_path / "mamba",
                  setting=str(tmp_path / "mamba"), size_bytes=520_000_000, architecture="mamba",
                  parameters=130_000_000, weights="float32",
                  problem="This model (mamba) has no gated (GLU) feed-forward blocks."),
        ModelInfo(name="gemma-3-270m", source="LM Studio", path=gemma, setting=str(gemma),
                  size_bytes=253_000_000, architecture="gemma3_text", parameters=268_000_000,
                  weights="Q4_K_M", method="locas-glu", memory_bytes=1_290_000_000),
    ]


def open_manager(qtbot, rows: int) -> tuple[SettingsDialog, ModelManagerDialog]:
    """Settings, then its Models on this computer… button by a click; returns once the list
    shows `rows` models."""
    settings = SettingsDialog(Settings())
    qtbot.addWidget(settings)
    settings.show()
    qtbot.mouseClick(settings.find_models, Qt.MouseButton.LeftButton)
    manager = settings.findChild(ModelManagerDialog)
    qtbot.waitUntil(lambda: manager.table.rowCount() == rows, timeout=20_000)
    return settings, manager


def test_pick_a_model_that_fits_with_the_keyboard(qtbot, monkeypatch, tmp_path):
    monkeypatch.setattr(discover, "iter_models", lambda: iter(_found(tmp_path)))
    settings, manager = open_manager(qtbot, rows=2)
    assert "2 models found, 1 that Locas fits" in manager.status.text()
    assert manager.table.item(0, 5).text() == "does not fit"
    assert manager.table.item(1, 2).text() == "253.0 MB" and manager.table.item(1, 5).text() == "locas-glu"
    manager.table.setFocus()
    # End, then Home: the first row becomes current by a key press whichever row focus gave it.
    qtbot.keyClick(manager.table, Qt.Key.Key_End)
    qtbot.keyClick(manager.table, Qt.Key.Key_Home)
    assert "no gated (GLU)" in manager.detail.text() and not manager.use_button.isEnabled()
    qtbot.keyClick(manager.table, Qt.Key.Key_Return)
    assert manager.isVisible()  # refused: the reason stays in view
    qtbot.keyClick(manager.table, Qt.Key.Key_Down)
    assert manager.use_button.isEnabled() and "Fits Locas (locas-glu)" in manager.detail.text()
    qtbot.keyClick(manager.table, Qt.Key.Key_Return)
    assert not manager.isVisible()
    assert settings.local_model.isChecked() and settings.model_path.text() == str(tmp_path / "gemma.gguf")
    assert settings.result_settings().model == str(tmp_path / "gemma.gguf")


def test_the_list_fills_in_as_models_are_found_off_the_gui_thread(qtbot, monkeypatch, tmp_path):
    """Each model gets its row as soon as it is described, while the search goes on, and the
    describing never runs on the GUI thread."""
    first, second = _found(tmp_path)
    go_on = threading.Event()
    threads = []

    def slow_search():
        threads.append(threading.get_ident())
        yield first
        go_on.wait(20)  # the second model takes long to describe
        threads.append(threading.get_ident())
        yield second

    monkeypatch.setattr(discover, "iter_models", slow_search)
    settings, manager = open_manager(qtbot, rows=1)
    assert manager.table.item(0, 0).text() == "org/mamba-130m"
    assert "1 model found so far" in manager.status.text() and "Looking for models" in manager.status.text()
    go_on.set()
    qtbot.waitUntil(lambda: manager.table.rowCount() == 2, timeout=20_000)
    qtbot.waitUntil(lambda: "2 models found, 1 that Locas fits" in manager.status.text(), timeout=20_000)
    assert threads and threading.get_ident() not in threads


def test_closing_the_list_stops_the_search(qtbot, tmp_path):
    first, second = _found(tmp_path)
    described = []

    def search():
        for info in (first, second):
            described.append(info)
            yield info

    dialog = ModelManagerDialog(search, lambda p: None, lambda info: info.setting,
                                run=lambda fn, done: None)  # nothing runs yet
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    dialog._search(search)  # the task thread reaches the search after the dialog closed
    assert described == [first] and dialog.table.rowCount() == 0


def test_add_a_gguf_by_hand(qtbot, monkeypatch, tmp_path):
    chosen = _found(tmp_path)[1]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(chosen.path), ""))
    dialog = ModelManagerDialog(lambda: [], lambda p: chosen if Path(p) == chosen.path else None,
                                lambda info: info.setting)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "No models found" in dialog.status.text()
    qtbot.mouseClick(dialog.add_gguf, Qt.MouseButton.LeftButton)
    assert dialog.selected() is chosen and dialog.use_button.isEnabled()
    qtbot.mouseClick(dialog.use_button, Qt.MouseButton.LeftButton)
    assert dialog.chosen_setting() == str(chosen.path)
