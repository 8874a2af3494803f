"""The window driven from the keyboard, as a person does: Enter, Shift+Enter, Tab, Delete, F2."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.memorize.job import MemorizeEvent
from app.settings import Settings
from app.ui.memorize_dialog import MemorizeDialog

pytestmark = pytest.mark.qt


def test_enter_in_the_memorize_dialog_starts(qtbot):
    dialog = MemorizeDialog([3], ["Alice"], [], Settings.of(rank=8, chunk=64))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.new_name.setFocus()
    started, rejected = [], []
    dialog.start_requested.connect(started.append)
    dialog.rejected.connect(lambda: rejected.append(True))
    qtbot.keyClick(dialog.new_name, Qt.Key.Key_Return)
    assert not rejected and dialog.isVisible()
    assert [r.memory for r in started] == ["Alice"]
    assert dialog.pages.currentIndex() == 1

    # On the progress page Enter neither pauses nor stops the job: it only closes the window.
    paused, stopped = [], []
    dialog.pause_requested.connect(paused.append)
    dialog.cancel_requested.connect(stopped.append)
    dialog.apply_event(MemorizeEvent("Alice", "memorizing", 64, 256, ppl=30.0, tokens_per_s=100, eta_s=2))
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert not paused and not stopped and not dialog.isVisible()


def test_enter_asks_shift_enter_adds_a_line_tab_moves_on(qtbot):
    from app.ui.question_panel import QuestionPanel

    panel = QuestionPanel()
    qtbot.addWidget(panel)
    with qtbot.waitActive(panel):  # shortcuts (Esc, Ctrl+Shift+Enter) need an active window
        panel.show()
        panel.activateWindow()
    asked = []
    panel.ask_requested.connect(asked.append)
    panel.question.setFocus()
    qtbot.keyClicks(panel.question, "Who is Ishmael?")
    qtbot.keyClick(panel.question, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(panel.question, "And the whale?")
    assert panel.question.toPlainText() == "Who is Ishmael?\nAnd the whale?"
    qtbot.keyClick(panel.question, Qt.Key.Key_Return)
    assert [o.question for o in asked] == ["Who is Ishmael?\nAnd the whale?"]
    assert panel.stop_button.isEnabled()

    stopped = []
    panel.stop_requested.connect(lambda: stopped.append(True))
    qtbot.keyClick(panel.question, Qt.Key.Key_Escape)
    assert stopped == [True]

    panel.fail_answer("single", "Stopped.")
    panel.question.setFocus()
    qtbot.keyClick(panel.question, Qt.Key.Key_Tab)
    assert "\t" not in panel.question.toPlainText() and not panel.question.hasFocus()

    compared = []
    panel.compare_requested.connect(compared.append)
    panel.question.setFocus()
    qtbot.keyClick(panel.question, Qt.Key.Key_Return,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert len(compared) == 1 and "Ctrl+Shift+Enter" in panel.compare_button.toolTip()


def test_delete_f2_and_enter_in_the_library(qtbot):
    from app.ui.library_rows import DocumentRow, MemoryRow
    from app.ui.library_view import LibraryView

    view = LibraryView()
    qtbot.addWidget(view)
    view.show()
    view.set_rows([DocumentRow(7, "Moby Dick")], [MemoryRow("loomings")])
    got = []
    for name in ("delete_document_requested", "rename_document_requested", "open_document_requested",
                 "delete_memory_requested", "rename_memory_requested", "memory_activated"):
        getattr(view, name).connect(lambda key, name=name: got.append((name, key)))
    view.setFocus()
    view.setCurrentItem(view.document_item(7))
    for key in (Qt.Key.Key_F2, Qt.Key.Key_Delete, Qt.Key.Key_Return):
        qtbot.keyClick(view, key)
    view.setCurrentItem(view.memory_item("loomings"))
    for key in (Qt.Key.Key_F2, Qt.Key.Key_Delete, Qt.Key.Key_Return):
        qtbot.keyClick(view, key)
    assert got == [("rename_document_requested", 7), ("delete_document_requested", 7),
                   ("open_document_requested", 7), ("rename_memory_requested", "loomings"),
                   ("delete_memory_requested", "loomings"), ("memory_activated", "loomings")]
