"""Following a memorization in the window (a fake engine plays the job's events): the memory
picker says what the library says, Resume after a pause is said at once, and a progress dialog
opened late shows where the run is, with the curve so far."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.ui.library_view import COL_STATUS, PROGRESS_ROLE
from app.ui.memorize_dialog import MemorizeDialog

pytestmark = pytest.mark.qt


def picker_text(window, name: str) -> str:
    combo = window.question_panel.memory_combo
    return combo.itemText(combo.findData(name))


def start_with_ctrl_m(qtbot, window, doc_id: int) -> MemorizeDialog:
    window.library_view.document_item(doc_id).setSelected(True)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MemorizeDialog) and w.isVisible())
    qtbot.addWidget(dialog)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    return dialog


def test_the_picker_follows_the_run_as_the_library_does(fake, qtbot):
    window, worker, library, doc_id = fake
    dialog = start_with_ctrl_m(qtbot, window, doc_id)
    job = worker.memorizations[-1]
    name = job.request.memory
    library.create_memory(name)  # what the real job does first ("queued")
    job.event("loading", message="Loading the model")
    qtbot.waitUntil(lambda: window.question_panel.memory_combo.findData(name) >= 0, timeout=5000)
    job.event("estimate", tokens_total=1000, eta_s=200.0, tokens_per_s=5.0)
    job.event("memorizing", tokens_done=400, tokens_total=1000, ppl=20.0, tokens_per_s=5.0, eta_s=120.0)
    library.update_memory(name, status="running", tokens_done=256, tokens_total=1000)  # the checkpoint lags
    assert picker_text(window, name) == f"{name} (memorizing, 40% memorized)"
    item = window.library_view.memory_item(name)
    assert item.text(COL_STATUS) == "memorizing" and item.data(4, PROGRESS_ROLE) == pytest.approx(0.4)
    window.refresh()  # any library change reloads the lists: the run's own count still wins
    assert picker_text(window, name) == f"{name} (memorizing, 40% memorized)"
    assert window.library_view.memory_item(name).data(4, PROGRESS_ROLE) == pytest.approx(0.4)

    qtbot.mouseClick(dialog.pause_button, Qt.MouseButton.LeftButton)
    assert job.control.paused
    job.event("paused", message="Paused")
    assert picker_text(window, name) == f"{name} (paused, 40% memorized)"
    assert window.library_view.memory_item(name).text(COL_STATUS) == "paused"

    # Resume: the job says so only after its next chunk (half a minute on a CPU); the window at once.
    qtbot.mouseClick(dialog.pause_button, Qt.MouseButton.LeftButton)
    assert not job.control.paused
    assert dialog.phase_label.text() == "Memorizing"
    assert dialog.speed_label.text() == "5 tokens/s" and dialog.eta_label.text().startswith("ETA")
    assert window.library_view.memory_item(name).text(COL_STATUS) == "memorizing"
    assert picker_text(window, name) == f"{name} (memorizing, 40% memorized)"
    job.event("done", tokens_done=1000, tokens_total=1000, message="Memorized 1,000 tokens.")
    library.update_memory(name, status="done", tokens_done=1000)
    job.finish(True, 1000, 1000)
    qtbot.waitUntil(lambda: picker_text(window, name) == name, timeout=5000)


def test_show_progress_after_a_resume_from_the_menu_opens_where_the_run_is(fake, qtbot):
    window, worker, library, doc_id = fake
    worker.session.library = library
    library.create_memory("fables", status="stopped")
    library.add_memory_source("fables", doc_id)
    library.update_memory("fables", tokens_done=440, tokens_total=1000)
    window.refresh()
    view = window.library_view
    menu = view.context_menu_for(view.memory_item("fables"))
    next(a for a in menu.actions() if a.text() == "Resume memorizing").trigger()
    job = worker.memorizations[-1]
    assert job.request.memory == "fables"
    for phase in ("loading", "tokenizing"):
        job.event(phase)
    job.event("estimate", tokens_total=1000, eta_s=100.0, tokens_per_s=5.6)
    job.event("resumed", tokens_done=440, tokens_total=1000, curve=[(200, 30.0), (440, 21.0)])
    qtbot.waitUntil(lambda: view.memory_item("fables").text(COL_STATUS) == "memorizing", timeout=5000)
    assert view.memory_item("fables").data(4, PROGRESS_ROLE) == pytest.approx(0.44)

    menu = view.context_menu_for(view.memory_item("fables"))
    next(a for a in menu.actions() if a.text() == "Show progress…").trigger()
    dialog = window.memorize_dialogs["fables"]
    qtbot.addWidget(dialog)
    assert dialog.progress.value() == 440
    assert dialog.tokens_label.text() == "440 / 1,000 tokens"
    assert dialog.phase_label.text() != "Waiting for the engine…"
    assert dialog.plot.points() == [(200.0, 30.0), (440.0, 21.0)]
    job.event("memorizing", tokens_done=504, tokens_total=1000, ppl=20.0, tokens_per_s=5.0, eta_s=99.0)
    assert dialog.progress.value() == 504 and len(dialog.plot.points()) == 3


def test_what_cannot_be_done_while_memorizing_is_said_before_asking(fake, qtbot, monkeypatch, boxes):
    """F2, Delete and Export on a memory being memorized say at once why not, before asking for a
    name, a confirmation or a file; Export of a memory with nothing finished says so too."""
    from PySide6.QtWidgets import QFileDialog, QInputDialog

    window, worker, library, doc_id = fake
    asked: list[str] = []
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (asked.append("name"), ("x", True))[1])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (asked.append("file"), ("", ""))[1])
    start_with_ctrl_m(qtbot, window, doc_id)
    job = worker.memorizations[-1]
    name = job.request.memory
    library.create_memory(name)
    job.event("loading")
    view = window.library_view
    qtbot.waitUntil(lambda: view.memory_item(name) is not None, timeout=5000)
    view.setFocus()
    view.setCurrentItem(view.memory_item(name))
    qtbot.keyClick(view, Qt.Key.Key_F2)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    menu = view.context_menu_for(view.memory_item(name))
    next(a for a in menu.actions() if a.text() == "Export memory file…").trigger()
    assert asked == [] and not boxes.of("question")  # nothing was asked first
    said = [text for _kind, _title, text in boxes.of("warning")]
    assert len(said) == 3 and all("is being memorized" in text for text in said)
    assert "then rename it" in said[0] and "then delete it" in said[1] and "export it once" in said[2]

    library.create_memory("half", status="stopped")  # a first run stopped: only a checkpoint
    window.refresh()
    menu = view.context_menu_for(view.memory_item("half"))
    next(a for a in menu.actions() if a.text() == "Export memory file…").trigger()
    assert asked == [] and "nothing finished to export yet (stopped)" in boxes.of("warning")[-1][2]
