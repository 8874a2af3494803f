"""The smaller things a new user trips on: hints, titles, labels, and a window that remembers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QInputDialog, QLabel, QMessageBox
from ui_helpers import make_window

from app.ui.answer_view import passage_title
from app.ui.memory_info_dialog import MemoryInfoDialog

pytestmark = pytest.mark.qt


def test_memorize_on_an_empty_library_says_import_first(window, qtbot, boxes):
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    (_kind, title, text), = boxes.of("information")
    assert title == "Memorize" and text.startswith("Import a book or a chat log first")


def test_a_one_section_text_is_not_named_twice():
    assert passage_title(SimpleNamespace(document_title="aesop-fables", section_title="aesop-fables")) == (
        "aesop-fables")
    assert passage_title(SimpleNamespace(document_title="Moby Dick", section_title="Loomings")) == (
        "Moby Dick · Loomings")


def test_memory_details_use_the_memorize_dialogs_words(qtbot):
    dialog = MemoryInfoDialog({"name": "fables", "status": "done", "settings": {"tau_scale": 64.0, "lr": 0.001,
                                                                                "rank": 8}})
    qtbot.addWidget(dialog)
    labels = [w.text() for w in dialog.findChildren(QLabel)
              if isinstance(w.parent().layout(), QFormLayout) and w.text().endswith(":")]
    assert labels[:3] == ["Memory size (rank):", "Output scale:", "Learning rate:"]
    assert not any("tau_scale" in label or label == "lr:" for label in labels)
    values = [w.text() for w in dialog.findChildren(QLabel)
              if isinstance(w.parent().layout(), QFormLayout) and not w.text().endswith(":")]
    assert "8.0" in values  # an old row's tau_scale 64 at rank 8, shown as today's output scale


def test_rename_says_what_is_renamed(window, monkeypatch):
    asked = []
    monkeypatch.setattr(QInputDialog, "getText",
                        staticmethod(lambda parent, title, label, **kw: (asked.append((title, label)), ("", False))[1]))
    window.controller.library.create_memory("keeper", status="done")
    window.rename_memory("keeper")
    assert asked == [("Rename memory", "New name for the memory “keeper”:")]


def test_the_window_remembers_its_size_splitters_and_memory(qtbot, small_settings, boxes):
    first = make_window(qtbot)
    for name in ("keeper", "orchard"):
        first.controller.library.create_memory(name, status="done")
    first.refresh()
    first.question_panel.select_memory("orchard")
    first.resize(780, 560)  # the offscreen screen is 800x800: restoring clamps to it
    first.main_splitter.setSizes([300, 480])
    qtbot.waitUntil(lambda: first.width() == 780)
    sizes = first.main_splitter.sizes()
    boxes.answer = QMessageBox.StandardButton.Yes
    first.close()

    again = make_window(qtbot)
    qtbot.waitUntil(lambda: again.width() == 780)
    assert (again.width(), again.height()) == (780, 560)
    assert again.main_splitter.sizes() == sizes
    assert again.question_panel.current_memories() == ["orchard"]  # not the first memory
    again.close()


def test_the_settings_path_field_shows_a_whole_model_path(qtbot):
    """The path field sat beside three buttons and showed about a dozen characters; a model
    path is read by its end (the file name), which was the part cut off."""
    from app.settings import Settings
    from app.ui.settings_dialog import SettingsDialog

    path = "/home/reader/models/SmolLM2-135M-Instruct.Q8_0.gguf"
    dialog = SettingsDialog(Settings(model=path))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    field = dialog.model_path
    assert field.text() == path
    assert field.width() >= field.fontMetrics().horizontalAdvance(path)
    # the buttons are still there, beneath the field rather than beside it
    for button in (dialog.browse_folder, dialog.browse_file, dialog.find_models):
        assert button.isVisible() and button.geometry().top() > field.geometry().bottom()
    assert field.toolTip() == path  # and the whole path on hover, should a longer one not fit
