"""A memory says what it holds, in the window (issues 29 and 30 items 2 and 7): the library's
Memory column and its "Not memorized" filter, the memory's Size, the chapter picker, the cost
of adding chapters, and the memory details, also while it is being memorized."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QLabel
from ui_helpers import make_fake_window

from app.memorize.job import MemorizeEvent
from app.ui.library_view import COL_SIZE, COL_STATUS
from app.ui.memorize_dialog import MemorizeDialog
from app.ui.memory_info_dialog import MemoryInfoDialog

pytestmark = pytest.mark.qt

STORY = "".join(f"CHAPTER {n}\n\n" + f"The {w} walked along the shore and counted the stones. " * 12
                + "\n\n" for n, w in (("ONE", "keeper"), ("TWO", "boy"), ("THREE", "engineer"),
                                      ("FOUR", "gull")))


def _memorized(library, name: str, doc_id: int, tokens: dict[int, int]) -> None:
    """What a finished job records: the chapters it holds, with their tokens; the last run's count."""
    if library.get_memory(name) is None:
        library.create_memory(name, status="done")
    library.add_memory_source(name, doc_id)
    library.mark_sections_held(name, doc_id, tokens)
    library.update_memory_source(name, doc_id, status="done")
    library.update_memory(name, status="done", tokens_done=sum(tokens.values()),
                          tokens_total=sum(tokens.values()), ppl=30.0)


def _details(window, qtbot, name: str) -> dict:
    """Open the memory's details from its menu, as a person does, and read what it says."""
    seen: dict = {}

    def read():
        dialog = next(w for w in QApplication.topLevelWidgets()
                      if isinstance(w, MemoryInfoDialog) and w.isVisible())
        labels = [w.text() for w in dialog.findChildren(QLabel)]
        seen.update(labels=labels, sources=[dialog.sources.item(i).text()
                                           for i in range(dialog.sources.count())],
                    points=len(dialog.plot.points()))
        dialog.grab().save(str(window.screenshot_dir / f"details-{name}.png"))
        dialog.reject()

    menu = window.library_view.context_menu_for(window.library_view.memory_item(name))
    action = next(a for a in menu.actions() if a.text().startswith("Sources, settings and curve"))
    QTimer.singleShot(200, read)
    action.trigger()
    qtbot.waitUntil(lambda: "labels" in seen, timeout=5000)
    return seen


@pytest.fixture
def book(qtbot, tmp_path):
    window, worker = make_fake_window(qtbot)
    window.screenshot_dir = tmp_path
    path = tmp_path / "shore.txt"
    path.write_text(STORY, encoding="utf-8")
    library = window.controller.library
    doc_id = library.import_file(path).id
    sections = library.sections(doc_id)
    yield window, library, doc_id, sections
    window.close()


def test_a_partly_memorized_book_says_so_and_adding_a_chapter_grows_the_memory(book, qtbot):
    window, library, doc_id, sections = book
    view = window.library_view
    _memorized(library, "shore", doc_id, {sections[0].id: 120, sections[1].id: 130})
    window.refresh()
    row = view.document_item(doc_id)
    assert row.text(COL_STATUS) == "shore (2 of 4 chapters)"
    assert row.toolTip(COL_STATUS) == "“shore” holds chapters 1-2 of 4, 250 tokens (partly memorized)"
    assert view.memory_item("shore").text(COL_SIZE) == "250 tokens"

    # "Not memorized" keeps it in sight: it has chapters still to memorize.
    window.search.kind.setCurrentText("Not memorized")
    assert view.visible_document_ids() == [doc_id]
    window.search.kind.setCurrentText("Everything")

    # Chapter 4 added later: the memory holds more, not only the last run's 140 tokens.
    _memorized(library, "shore", doc_id, {sections[3].id: 140})
    window.refresh()
    assert view.memory_item("shore").text(COL_SIZE) == "390 tokens"
    row = view.document_item(doc_id)
    assert row.text(COL_STATUS) == "shore (3 of 4 chapters)"
    info = _details(window, qtbot, "shore")
    assert "390 tokens" in info["labels"]  # "Holds:", not "Tokens: 140 of 140"
    assert "140 of 140" not in " ".join(info["labels"])
    assert info["sources"] == ["shore: chapters 1-2, 4 of 4, 390 tokens (partly memorized)"]
    assert "Final perplexity:" in info["labels"]

    # ...and once every chapter is in, the book counts as memorized.
    _memorized(library, "shore", doc_id, {sections[2].id: 125})
    window.refresh()
    assert view.document_item(doc_id).text(COL_STATUS) == "shore"
    window.search.kind.setCurrentText("Not memorized")
    assert view.visible_document_ids() == []


def test_the_picker_says_what_the_memory_holds_and_the_cost_leaves_it_out(book, qtbot):
    window, library, doc_id, sections = book
    _memorized(library, "shore", doc_id, {sections[0].id: 120, sections[1].id: 130})
    window.refresh()
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    window.library_view.document_item(doc_id).setSelected(True)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MemorizeDialog) and w.isVisible())
    qtbot.addWidget(dialog)
    new_cost = dialog.cost_label.text()  # a new memory: the whole book
    dialog.chapters.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    dialog.chapters.list.item(1).setCheckState(Qt.CheckState.Unchecked)
    three_and_four = dialog.cost_label.text()
    dialog.chapters.list.item(2).setCheckState(Qt.CheckState.Unchecked)
    chapter_four = dialog.cost_label.text()
    assert len({new_cost, three_and_four, chapter_four}) == 3
    dialog.chapters.all_button.click()  # every chapter ticked again

    qtbot.mouseClick(dialog.existing_memory, Qt.MouseButton.LeftButton)  # add to "shore"
    assert dialog.existing_memory.isChecked()
    picker = dialog.chapters
    assert picker.holding_label.isVisible()
    assert picker.holding_label.text() == "“shore” holds chapters 1-2 of 4, 250 tokens (partly memorized)."
    assert picker.list.item(0).text().endswith("already in this memory")
    # Every chapter ticked: the cost counts chapters 3 and 4, not the two it holds (issue 30 item 2).
    assert dialog.cost_label.text() == three_and_four
    picker.list.item(2).setCheckState(Qt.CheckState.Unchecked)
    assert dialog.cost_label.text() == chapter_four
    # Only held chapters ticked: nothing to do, and Start does not start.
    picker.none_button.click()
    picker.list.item(0).setCheckState(Qt.CheckState.Checked)
    assert dialog.cost_label.text() == "Cost: nothing: “shore” already holds what is chosen."
    with qtbot.assertNotEmitted(dialog.start_requested):
        dialog.start_button.click()
    dialog.resize(900, 600)
    dialog.grab().save(str(window.screenshot_dir / "picker.png"))
    dialog.reject()


def test_details_while_memorizing_show_this_run_and_the_curve_so_far(book, qtbot):
    window, library, doc_id, sections = book
    library.create_memory("shore", status="running")
    library.add_memory_source("shore", doc_id)
    library.update_memory("shore", tokens_done=256, tokens_total=1024, ppl=51.0)
    window.refresh()
    for done, ppl in ((256, 60.0), (512, 51.0)):  # the worker's events, as the window gets them
        window.controller._on_memorize_event(MemorizeEvent("shore", "memorizing", done, 1024, ppl=ppl))
    info = _details(window, qtbot, "shore")
    assert "Final perplexity:" not in info["labels"]  # it is not final: the run goes on
    assert "Perplexity so far:" in info["labels"] and "256 of 1,024 tokens saved" in info["labels"]
    assert info["sources"] == ["shore: nothing yet (all of it to come)"]
    assert info["points"] == 2  # the curve so far, not an empty plot
