"""The window driven from the keyboard, as a person does: Enter, Shift+Enter, Tab, Delete, F2."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.jobs import MemorizeEvent
from app.settings import Settings
from app.ui.memorize_dialog import MemorizeDialog

pytestmark = pytest.mark.qt


def test_enter_in_the_memorize_dialog_starts(qtbot):
    dialog = MemorizeDialog([3], ["Alice"], [], Settings(rank=8, chunk=64))
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
