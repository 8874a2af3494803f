"""GUI flows on the real default model (SmolLM2-135M on CPU) with a short story and small settings.

Memorize with progress, stop and resume; ask with streaming and citations; compare; close while
memorizing and resume on the next start; ask while a memorization runs.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from ui_helpers import make_window

from app.ui.question_panel import SINGLE, WITH, WITHOUT

pytestmark = [pytest.mark.slow, pytest.mark.qt]

MODEL_TIMEOUT = 240_000  # ms: a cold GGUF load is ~30 s on a shared CPU; memorizing the story a few more


def import_story(window, qtbot, story_file) -> int:
    window.controller.import_files([str(story_file)])
    qtbot.waitUntil(lambda: len(window.library_view.document_ids()) == 1, timeout=10_000)
    return window.library_view.document_ids()[0]


def memory_status(window, name: str) -> str | None:
    row = window.controller.library.get_memory(name)
    return row["status"] if row else None


def start_memorize(window, doc_id: int, name: str):
    dialog = window.memorize_documents([doc_id])
    dialog.new_name.setText(name)
    dialog.start_button.click()
    return dialog


def test_memorize_progress_stop_then_resume(window, qtbot, story_file):
    doc_id = import_story(window, qtbot, story_file)
    progress_events = []
    window.controller.memorize_event.connect(
        lambda e: progress_events.append(e) if e.phase == "memorizing" else None)
    dialog = start_memorize(window, doc_id, "keeper")
    assert dialog.pages.currentIndex() == 1  # switched to the progress page

    qtbot.waitUntil(lambda: len(progress_events) >= 1, timeout=MODEL_TIMEOUT)
    dialog.cancel_button.click()  # Stop: checkpoint and stop after this chunk
    qtbot.waitUntil(dialog.is_finished, timeout=MODEL_TIMEOUT)
    assert dialog.progress.value() > 0 and "tokens/s" in dialog.speed_label.text()
    assert len(dialog.plot.points()) >= 1
    qtbot.waitUntil(lambda: memory_status(window, "keeper") == "stopped", timeout=10_000)
    row = window.controller.library.get_memory("keeper")
    assert 0 < row["tokens_done"] < row["tokens_total"]
    qtbot.waitUntil(lambda: window.library_view.memory_item("keeper") is not None, timeout=5_000)
    assert window.library_view.memory_item("keeper").text(3) == "stopped"

    # Resume from the memory's context menu: it continues from the checkpoint and finishes.
    menu = window.library_view.context_menu_for(window.library_view.memory_item("keeper"))
    resumed = []
    window.controller.memorize_event.connect(
        lambda e: resumed.append(e) if e.phase == "memorizing" else None)
    next(a for a in menu.actions() if a.text() == "Resume memorizing").trigger()
    qtbot.waitUntil(lambda: memory_status(window, "keeper") == "done", timeout=MODEL_TIMEOUT)
    assert resumed and resumed[0].tokens_done > row["tokens_done"] - 64  # did not start over
    qtbot.waitUntil(lambda: window.library_view.memory_item("keeper").text(3) == "ready", timeout=5_000)


def test_memorize_ask_stream_cite_compare_history(window, qtbot, story_file):
    doc_id = import_story(window, qtbot, story_file)
    dialog = start_memorize(window, doc_id, "keeper")
    qtbot.waitUntil(lambda: memory_status(window, "keeper") == "done", timeout=MODEL_TIMEOUT)
    qtbot.waitUntil(dialog.is_finished, timeout=5_000)
    assert dialog.progress.value() == 1000
    dialog.close()

    panel = window.question_panel
    panel.select_memory("keeper")
    assert window.memory_label.text() == "Memory: keeper"
    tokens: list[str] = []
    window.controller.bridge.answer_token.connect(lambda _t, piece: tokens.append(piece))
    panel.question.setPlainText("Who kept the lighthouse light?")
    panel.ask_button.click()
    assert not panel.ask_button.isEnabled() and panel.stop_button.isEnabled()
    qtbot.waitUntil(lambda: not panel.is_answering(), timeout=MODEL_TIMEOUT)
    assert len(tokens) >= 2  # streamed piece by piece
    assert panel.answer_text(SINGLE).strip()
    assert panel.citations.count() >= 1
    assert "lighthouse" in panel.citations.item(0).text().lower() or panel.citations.count() > 1

    # Clicking a citation opens the passage in its section, highlighted.
    passage = panel.citations.item(0).data(0x0100)
    reader = window.open_passage(passage)
    assert reader is not None and reader.highlighted_text().strip()
    assert " ".join(reader.highlighted_text().split()) == " ".join(passage.text.split())
    reader.close()

    # History of this memory shows the question.
    assert panel.history.count() == 1 and "Who kept the lighthouse" in panel.history.item(0).text()

    panel.compare_button.click()
    qtbot.waitUntil(lambda: not panel.is_answering(), timeout=MODEL_TIMEOUT)
    assert panel.answers.currentIndex() == 1
    assert panel.answer_text(WITH).strip() and panel.answer_text(WITHOUT).strip()
    history = window.controller.library.history()
    assert [h["options"]["use_memory"] for h in history[-2:]] == [True, False]

    # Memory off and retrieval off are honoured.
    panel.use_memory.setChecked(False)
    panel.use_retrieval.setChecked(False)
    panel.ask_button.click()
    qtbot.waitUntil(lambda: not panel.is_answering(), timeout=MODEL_TIMEOUT)
    last = window.controller.library.history()[-1]
    assert last["options"]["use_memory"] is False and last["options"]["use_retrieval"] is False
    assert panel.citations.count() == 0


def test_close_while_memorizing_then_resume_from_the_library(qtbot, small_settings, boxes, story_file):
    window = make_window(qtbot)
    doc_id = import_story(window, qtbot, story_file)
    events = []
    window.controller.memorize_event.connect(lambda e: events.append(e) if e.phase == "memorizing" else None)
    start_memorize(window, doc_id, "keeper")
    qtbot.waitUntil(lambda: len(events) >= 1, timeout=MODEL_TIMEOUT)

    boxes.answer = QMessageBox.StandardButton.No  # "Stop memorizing?" No: the window stays open
    window.close()
    assert window.isVisible() and boxes.of("question")[-1][1] == "Stop memorizing?"
    boxes.answer = QMessageBox.StandardButton.Yes
    window.close()
    assert not window.isVisible()
    from app.library import Library

    with Library() as library:  # the closed window's connection is closed too
        row = library.get_memory("keeper")
    assert row["status"] == "stopped" and 0 < row["tokens_done"] < row["tokens_total"]

    # Next start: a deliberate stop is not asked about; the memory resumes from its menu.
    asked = len(boxes.of("question"))
    again = make_window(qtbot, offer_resume=True)
    qtbot.wait(500)
    assert len(boxes.of("question")) == asked
    menu = again.library_view.context_menu_for(again.library_view.memory_item("keeper"))
    next(a for a in menu.actions() if a.text() == "Resume memorizing").trigger()
    qtbot.waitUntil(lambda: memory_status(again, "keeper") == "done", timeout=MODEL_TIMEOUT)
    boxes.answer = QMessageBox.StandardButton.Yes
    again.close()


def test_ask_while_memorizing(window, qtbot, story_file):
    """Questions are served between training chunks: the answer arrives before memorizing ends."""
    doc_id = import_story(window, qtbot, story_file)
    events = []
    window.controller.memorize_event.connect(lambda e: events.append(e.phase))
    start_memorize(window, doc_id, "keeper")
    qtbot.waitUntil(lambda: "memorizing" in events, timeout=MODEL_TIMEOUT)
    window.question_panel.select_memory(None)
    window.question_panel.question.setPlainText("What is a lighthouse?")
    window.question_panel.ask_button.click()
    qtbot.waitUntil(lambda: not window.question_panel.is_answering(), timeout=MODEL_TIMEOUT)
    assert window.question_panel.answer_text().strip()
    assert "done" not in events  # answered while the memorization was still running
    qtbot.waitUntil(lambda: memory_status(window, "keeper") == "done", timeout=MODEL_TIMEOUT)
