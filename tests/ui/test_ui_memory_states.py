"""What the window shows and asks about memories: stopped vs crashed, the picker, progress bars."""

from __future__ import annotations

import subprocess
import sys

import pytest
from PySide6.QtWidgets import QMessageBox
from ui_helpers import make_window

from app.library import Library
from app.ui.library_view import COL_STATUS, PROGRESS_ROLE

pytestmark = pytest.mark.qt


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_only_a_crash_asks_at_start_and_no_is_the_default(qtbot, small_settings, boxes):
    with Library() as library:
        library.create_memory("stopped-by-me", status="stopped")
        library.update_memory("stopped-by-me", tokens_done=40, tokens_total=400)
        library.create_memory("crashed", status="running")
        library.update_memory("crashed", pid=dead_pid(), tokens_done=100, tokens_total=400)
    boxes.answer = QMessageBox.StandardButton.No
    window = make_window(qtbot, offer_resume=True)
    qtbot.waitUntil(lambda: bool(boxes.of("question")), timeout=5_000)
    kind, title, text = boxes.of("question")[0]
    assert title == "Resume memorizing?" and "“crashed”" in text and "stopped-by-me" not in text
    assert boxes.defaults[0] == QMessageBox.StandardButton.No  # Enter never restarts a long job

    view = window.library_view
    assert view.memory_item("stopped-by-me").text(COL_STATUS) == "stopped"
    assert view.memory_item("crashed").text(COL_STATUS) == "interrupted"
    for name in ("stopped-by-me", "crashed"):
        menu = view.context_menu_for(view.memory_item(name))
        assert "Resume memorizing" in [a.text() for a in menu.actions()]
    boxes.answer = QMessageBox.StandardButton.Yes
    window.close()


def test_nothing_asked_at_start_after_a_stop(qtbot, small_settings, boxes):
    with Library() as library:
        library.create_memory("stopped-by-me", status="stopped")
    window = make_window(qtbot, offer_resume=True)
    qtbot.wait(200)
    assert not boxes.of("question")
    window.close()


def test_the_memory_picker_changes_only_when_the_user_picks(window, qtbot, monkeypatch):
    panel, library = window.question_panel, window.controller.library
    assert panel.current_memories() == []  # an empty library: the plain model
    library.create_memory("fables", status="running")  # a new memorization appears
    window.refresh()
    assert panel.current_memories() == [] and panel.memory_combo.findData("fables") > 0

    library.create_memory("odyssey", status="done")
    window.refresh()
    panel.select_memory("odyssey")
    from PySide6.QtWidgets import QInputDialog

    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: ("The Odyssey", True)))
    window.rename_memory("odyssey")
    qtbot.waitUntil(lambda: "The Odyssey" in window.library_view.memory_names(), timeout=10_000)
    assert panel.current_memories() == ["The Odyssey"]  # renamed, still the one picked
    assert panel.memory_combo.currentText() == "The Odyssey"
    assert window.memory_label.text() == "Memory: The Odyssey"


def test_unfinished_memories_say_so_and_keep_their_bar(window, qtbot, story_file):
    library = window.controller.library
    library.create_memory("fables", status="stopped")
    library.update_memory("fables", tokens_done=3, tokens_total=1000)
    window.refresh()
    panel, view = window.question_panel, window.library_view
    assert panel.memory_combo.itemText(panel.memory_combo.findData("fables")) == (
        "fables (stopped, 0.3% memorized)")

    # A paused job's event carries no counts: the bar stays where it was.
    from app.memorize.job import MemorizeEvent

    window.controller._on_memorize_event(MemorizeEvent("fables", "memorizing", 250, 1000, ppl=9.0))
    window.controller._on_memorize_event(MemorizeEvent("fables", "paused", message="Paused"))
    item = view.memory_item("fables")
    assert item.text(COL_STATUS) == "paused" and item.data(4, PROGRESS_ROLE) == 0.25

    # Importing a memorized book again keeps its Memory column.
    window.controller.import_files([str(story_file)])
    qtbot.waitUntil(lambda: len(view.document_ids()) == 1, timeout=10_000)
    doc_id = view.document_ids()[0]
    library.add_memory_source("fables", doc_id)  # planned, none of it memorized yet
    window.refresh()
    assert view.document_item(doc_id).text(COL_STATUS) == "fables (nothing yet)"
    window.controller.import_files([str(story_file)])
    qtbot.waitUntil(lambda: "already" in window.statusBar().currentMessage(), timeout=10_000)
    assert view.document_item(doc_id).text(COL_STATUS) == "fables (nothing yet)"
