"""Answers as a reader sees them (a fake engine plays the model): citations while the answer is
written, a stopped answer that says so, tokens/s, a history with time, memory and mode that
restores citations, the shelf's own history, the model's loading that stays visible, and Compare
filling both panes at once."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from ui_helpers import make_fake_window

from app.errors import JobError

pytestmark = pytest.mark.qt


def ask(qtbot, window, text: str) -> None:
    box = window.question_panel.question
    box.setPlainText(text)
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_citations_arrive_first_a_stop_says_so_and_speed_is_shown(fake, qtbot):
    window, worker, library, _doc = fake
    panel = window.question_panel
    passages = library.search("Maren", limit=2)
    assert len(passages) == 2
    ask(qtbot, window, "Who kept the light?")
    worker.answers[-1].cite(passages)
    assert panel.citations.count() == 2 and panel.tabs.tabText(0) == "Cited passages (2)"
    assert panel.answer_text() == ""  # the passages are readable before the first word
    worker.answers[-1].token("Maren")
    worker.answers[-1].finish("Maren Solberg.", passages, seconds=2.0, tokens=10)
    assert panel.status.full_text().startswith("Answered in 2.0 s") and "5.0 tokens/s" in panel.status.full_text()

    ask(qtbot, window, "And the boy?")
    assert panel.citations.count() == 0 and panel.tabs.tabText(0) == "Cited passages (0)"
    worker.answers[-1].token("Tob")
    panel.stop_button.click()
    assert worker.answers[-1].control.cancelled
    worker.answers[-1].finish("Tob", [], seconds=1.0, tokens=1)
    assert panel.status.full_text().startswith("Stopped after 1.0 s")
    assert "Answered" not in panel.status.full_text()


def test_history_shows_when_which_memory_and_how_and_restores_citations(fake, qtbot):
    window, worker, library, doc_id = fake
    panel = window.question_panel
    for name in ("lighthouse", "orchard"):
        library.create_memory(name, status="done")
        library.add_memory_source(name, doc_id)
    window.refresh()
    passages = library.search("brass key", limit=1)
    from dataclasses import asdict

    library.add_history("What did the grandfather cut?", "A brass key.", memory="lighthouse",
                        citations=[asdict(p) for p in passages],
                        options={"use_memory": True, "use_retrieval": True, "memories": ["lighthouse"],
                                 "route": {"chosen": ["lighthouse"], "losses": {}}})
    library.add_history("What is a lamp?", "A light.", memory=None,
                        options={"use_memory": False, "use_retrieval": False, "memories": []})

    panel.select_memory("lighthouse")
    panel.select_memory(None)
    assert panel.history.count() == 1 and "plain model" in panel.history.item(0).text()
    assert panel.select_all_memories()  # the shelf: its routed questions, not the plain model's
    assert panel.history.count() == 1
    label = panel.history.item(0).text()
    head = label.split("\n")[0]
    assert "lighthouse" in head and "memory + retrieval" in head and ":" in head  # HH:MM

    item = panel.history.item(0)
    rect = panel.history.visualItemRect(item)
    qtbot.mouseClick(panel.history.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.answer_text() == "A brass key."
    assert panel.citations.count() == 1 and "CHAPTER TWO" in panel.citations.item(0).text()
    assert "brass key" in panel.citations.item(0).data(Qt.ItemDataRole.UserRole).text
    assert panel.tabs.tabText(0) == "Cited passages (1)"


def test_the_model_loading_stays_in_sight_until_it_is_loaded(fake, qtbot):
    window, worker, _library, _doc = fake
    worker.hold = True
    window.controller.load_model()
    assert window.model_label.text() == "Model: loading…"
    ask(qtbot, window, "Who kept the light?")
    assert window.question_panel.status.full_text() == "Loading the model, then answering…"
    worker.release()
    assert window.model_label.text() == "Model: fake-model"
    worker.answers[-1].finish("Maren.")
    ask(qtbot, window, "Again?")
    assert window.question_panel.status.full_text() == "Answering…"


def test_a_follow_up_carries_the_conversation_until_a_new_one(fake, qtbot):
    window, worker, _library, _doc = fake
    panel = window.question_panel
    ask(qtbot, window, "Who kept the light?")
    assert worker.answers[-1].request.history == []
    worker.answers[-1].finish("Maren Solberg.")
    assert panel.new_conversation_button.isEnabled()

    ask(qtbot, window, "For how long did she keep it?")
    assert worker.answers[-1].request.history == [("Who kept the light?", "Maren Solberg.")]
    assert "follow-up to 1 earlier question" in panel.single.title.text()
    worker.answers[-1].token("Thirty")
    assert panel.answer_text().startswith("You: Who kept the light?\nMaren Solberg.\n\n"
                                          "You: For how long did she keep it?\nThirty")
    worker.answers[-1].finish("Thirty-one winters.")
    assert panel.answer_text().endswith("Thirty-one winters.")

    panel.new_conversation_button.click()
    assert not panel.new_conversation_button.isEnabled() and panel.answer_text() == ""
    ask(qtbot, window, "Who is Tobias?")
    assert worker.answers[-1].request.history == []
    assert "follow-up" not in panel.single.title.text()


def test_compare_fills_both_panes_at_once_and_stop_stops_both(fake, qtbot):
    window, worker, library, doc_id = fake
    panel = window.question_panel
    library.create_memory("lighthouse", status="done")
    library.add_memory_source("lighthouse", doc_id)
    window.refresh()
    panel.select_memory("lighthouse")
    box = panel.question
    box.setPlainText("Who kept the light?")
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert panel.answers.currentIndex() == 1 and worker.answers == []  # one job, not two in a row
    job = worker.compares[-1]
    assert (job.a.request.use_memory, job.b.request.use_memory) == (True, False)
    assert job.a.request.memories == job.b.request.memories == ["lighthouse"]

    job.a.cite(library.search("Maren", limit=2))
    job.b.cite(library.search("Maren", limit=2))
    job.b.token("Tobias")  # the side without the memory may start first
    job.a.token("Maren")
    job.b.token(" kept")
    job.a.token(" Solberg")
    assert panel.answer_text("with") == "Maren Solberg" and panel.answer_text("without") == "Tobias kept"
    assert panel.is_answering() and panel.citations.count() == 2

    qtbot.keyClick(box, Qt.Key.Key_Escape)  # Stop, from the keyboard
    assert job.control.cancelled
    job.b.finish("Tobias kept", seconds=1.0, tokens=2)
    assert panel.is_answering() and panel.answer_text("without") == "Tobias kept"
    job.a.finish("Maren Solberg", seconds=1.5, tokens=3)
    assert not panel.is_answering() and panel.ask_button.isEnabled()
    assert panel.answer_text("with") == "Maren Solberg"
    # one line per answer, under its own pane (they were two answers, not one)
    assert panel.with_view.status.text().startswith("Stopped after 1.5 s")
    assert panel.without_view.status.text().startswith("Stopped after 1.0 s")
    assert panel.with_view.status.isVisible() and panel.without_view.status.isVisible()


def test_a_compare_side_that_fails_shows_why_and_the_other_answers(fake, qtbot):
    window, worker, _library, _doc = fake
    panel = window.question_panel
    panel.question.setPlainText("Who kept the light?")
    panel.compare_button.click()
    job = worker.compares[-1]
    job.b.token("Maren")
    job.a.fail(JobError("There is no memory named 'x'."))
    assert panel.answer_text("with") == "There is no memory named 'x'." and panel.is_answering()
    job.b.finish("Maren Solberg.")
    assert panel.answer_text("without") == "Maren Solberg." and not panel.is_answering()


def test_an_answer_about_the_wrong_person_shows_the_line_that_says_whom(fake, qtbot):
    """A misattributed question (app/answer/attribution.py) is an abstention that still shows the line
    it rests on, highlighted, so the reader sees whom the text means."""
    window, worker, library, _doc = fake
    panel = window.question_panel
    passages = library.search("Maren", limit=1)
    line = passages[0].text.split(".")[0] + "."
    ask(qtbot, window, "Who kept the light for Tobias?")
    worker.answers[-1].finish("The text does not say. It says this of Maren, not of Tobias [1].", passages,
                              abstained=True, cited=0, support=(0, len(line)))
    shown = panel.answer_text()
    assert shown.startswith("The text does not say. It says this of Maren")
    assert "Supported by [1]:" in shown and " ".join(line.split()) in shown


def test_the_answer_time_counts_from_the_question_and_says_the_wait(fake, qtbot):
    """Asked while the engine was busy, the answer waited before it was written: "Answered in"
    counts from the question (as the reader waited), says how much was waiting, and the first
    word's time; tokens/s is over the writing alone."""
    import re

    window, worker, _library, _doc = fake
    panel = window.question_panel
    ask(qtbot, window, "Who kept the light?")
    qtbot.wait(1600)  # the engine finishes a memorization chunk first
    worker.answers[-1].token("Maren")
    worker.answers[-1].finish("Maren Solberg.", seconds=0.5, tokens=4)
    line = panel.status.full_text()
    found = re.match(r"Answered in (\d+\.\d) s \((\d+\.\d) s waiting for the engine\) · "
                     r"first word after (\d+\.\d) s · 8\.0 tokens/s$", line)
    assert found, line
    total, waited, first = (float(g) for g in found.groups())
    assert total >= 1.5 and waited >= 1.0 and first >= 1.5


def test_the_picked_memory_is_loaded_before_the_first_question(qtbot, story_file):
    """Loading a memory file took a second of the first question's wait: with the engine idle,
    the memory picked (at start, or later) is attached ahead of the question."""
    from app.library import Library

    library = Library()
    for name in ("lighthouse", "orchard"):
        library.create_memory(name, status="done")
    library.close()
    window, worker = make_fake_window(qtbot, preload_model=True)
    qtbot.waitUntil(lambda: window.controller.model_name == "fake-model", timeout=5000)
    assert getattr(worker.session, "attached", []) == ["lighthouse"]  # the picker's first memory
    combo = window.question_panel.memory_combo
    combo.setFocus()
    qtbot.keyClick(combo, Qt.Key.Key_Down)  # the reader picks the next one
    assert window.question_panel.current_memory() == "orchard"
    assert worker.session.attached[-1] == "orchard"
    window.close()
