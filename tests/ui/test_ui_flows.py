"""GUI flows that need no model: import (drag & drop, dialog), bad files, rename/delete, settings.

These run the real main window, controller, library and engine worker offscreen; the model is
never loaded because nothing here asks it anything.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QInputDialog

from app.settings import load_settings
from app.ui.main_window import EMPTY_HINT

pytestmark = pytest.mark.qt


def drop_files(window, paths) -> None:
    """Simulate dragging files from a file manager onto the window."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    enter = QDragEnterEvent(QPointF(50, 50).toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(window, drop)


def test_empty_library_explains_what_to_do(window):
    assert window.left_stack.currentWidget() is window.empty_hint
    assert window.empty_hint.text() == EMPTY_HINT and "Ctrl+O" in EMPTY_HINT
    assert window.import_action.shortcut().toString() == "Ctrl+O"
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"


def test_import_by_drag_and_drop(window, qtbot, story_file):
    drop_files(window, [story_file])
    qtbot.waitUntil(lambda: len(window.library_view.document_ids()) == 1, timeout=10_000)
    assert window.left_stack.currentWidget() is window.library_view
    item = window.library_view.document_item(window.library_view.document_ids()[0])
    assert item.isSelected()  # the new item is shown and selected at once
    assert item.text(2).endswith("chars") and item.text(3) == "not memorized"


def test_import_by_dialog_multi_select(window, qtbot, monkeypatch, story_file, notes_file):
    seen = {}

    def fake_dialog(parent, caption, folder, filters):
        seen["filters"] = filters
        return [str(story_file), str(notes_file)], "All supported files"

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", staticmethod(fake_dialog))
    window.import_action.trigger()
    qtbot.waitUntil(lambda: len(window.library_view.document_ids()) == 2, timeout=10_000)
    assert "EPUB books (*.epub)" in seen["filters"] and "PDF documents (*.pdf)" in seen["filters"]
    titles = sorted(window.library_view.document_item(i).text(0) for i in window.library_view.document_ids())
    assert len(titles) == 2


def test_bad_file_shows_a_readable_message(window, qtbot, boxes, tmp_path):
    bad = tmp_path / "broken.epub"
    bad.write_bytes(b"this is not a zip archive at all")
    drop_files(window, [bad])
    qtbot.waitUntil(lambda: bool(boxes.of("warning")), timeout=10_000)
    kind, title, text = boxes.of("warning")[0]
    assert title == "Import failed"
    assert "broken.epub" in text and "Traceback" not in text and "\n" not in text
    assert window.library_view.document_ids() == []


def test_rename_and_delete_document_and_memory(window, qtbot, monkeypatch, boxes, story_file):
    drop_files(window, [story_file])
    qtbot.waitUntil(lambda: len(window.library_view.document_ids()) == 1, timeout=10_000)
    doc_id = window.library_view.document_ids()[0]
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("The Keeper", True)))
    window.library_view.context_menu_for(window.library_view.document_item(doc_id))
    window.rename_document(doc_id)
    qtbot.waitUntil(lambda: window.library_view.document_item(doc_id).text(0) == "The Keeper", timeout=10_000)

    # A memory row (as a finished memorization leaves it) can be renamed and deleted too.
    window.controller.library.create_memory("keeper", status="done")
    window.refresh()
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("keeper-2", True)))
    window.rename_memory("keeper")
    qtbot.waitUntil(lambda: window.library_view.memory_names() == ["keeper-2"], timeout=10_000)
    assert window.question_panel.memory_combo.findData("keeper-2") >= 0

    boxes.answer = boxes.answer.No  # saying No to the confirmation keeps it
    window.delete_memory("keeper-2")
    assert window.library_view.memory_names() == ["keeper-2"]
    boxes.answer = boxes.answer.Yes
    window.delete_memory("keeper-2")
    qtbot.waitUntil(lambda: window.library_view.memory_names() == [], timeout=10_000)
    window.delete_document(doc_id)
    qtbot.waitUntil(lambda: window.library_view.document_ids() == [], timeout=10_000)
    assert [c[1] for c in boxes.of("question")] == ["Delete memory", "Delete memory", "Delete document"]
    assert window.left_stack.currentWidget() is window.empty_hint


def test_settings_are_persisted(window, qtbot):
    dialog = window.open_settings()
    assert not dialog.form.advanced.is_expanded()
    dialog.form.rank.setValue(16)
    dialog.form.chunk.setValue(128)
    dialog.passages.setValue(3)
    dialog.use_retrieval.setChecked(False)
    dialog.accept()
    assert dialog.result() == QDialog.DialogCode.Accepted
    saved = load_settings()
    assert (saved.memory.rank, saved.training.chunk, saved.passages, saved.use_retrieval) == (16, 128, 3, False)
    # The next window (a restart) starts from them.
    again = window.open_settings()
    assert again.form.rank.value() == 16 and again.form.chunk.value() == 128
    again.reject()


def test_bad_model_path_in_settings_is_refused_and_not_saved(window, qtbot, boxes, tmp_path):
    dialog = window.open_settings()
    qtbot.mouseClick(dialog.local_model, Qt.MouseButton.LeftButton)
    dialog.model_path.setFocus()
    qtbot.keyClicks(dialog.model_path, str(tmp_path / "no-such-model.gguf"))
    qtbot.keyClick(dialog.model_path, Qt.Key.Key_Return)
    assert dialog.isVisible()  # Enter did not close it: nothing was saved
    assert dialog.problem.isVisible() and "There is no model at" in dialog.problem.text()
    assert load_settings().model == "default"
    qtbot.mouseClick(dialog.default_model, Qt.MouseButton.LeftButton)
    assert not dialog.problem.isVisible()
    qtbot.keyClick(dialog.model_path, Qt.Key.Key_Return)
    assert not dialog.isVisible() and dialog.result() == QDialog.DialogCode.Accepted
    assert load_settings().model == "default" and not boxes.calls


def test_notes_folder_imports_then_syncs_and_quick_note_is_stored(window, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QInputDialog

    from app.library import Library

    vault = tmp_path / "vault"
    (vault / "garden").mkdir(parents=True)
    (vault / "garden" / "quince.md").write_text("# Quince\n\nPlanted by Ada in 1987.\n", encoding="utf-8")
    (vault / "boat.md").write_text("# Boat\n\nThe boat is called Tern.\n", encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", staticmethod(lambda *a, **k: str(vault)))
    window.import_folder_action.trigger()
    qtbot.waitUntil(lambda: len(window.library_view.document_ids()) == 1, timeout=10_000)
    doc_id = window.library_view.document_ids()[0]

    (vault / "boat.md").write_text("# Boat\n\nThe boat is called Little Tern.\n", encoding="utf-8")
    (vault / "kitchen.md").write_text("# Kitchen\n\nThe oven runs hot.\n", encoding="utf-8")
    window.import_folder_action.trigger()  # the same folder again: a sync, not a second document
    library = Library()
    qtbot.waitUntil(lambda: len(library.sections(doc_id)) == 3, timeout=10_000)
    assert len(library.list_documents()) == 1
    assert any("Little Tern" in library.section_text(s.id) for s in library.sections(doc_id))

    monkeypatch.setattr(QInputDialog, "getMultiLineText",
                        staticmethod(lambda *a, **k: ("Call Anna about the boat on Friday", True)))
    window.quick_note_action.trigger()
    qtbot.waitUntil(lambda: any("Call Anna" in p.text for p in library.search("Anna boat Friday")),
                    timeout=30_000)
    library.close()
