"""The window numbers a book's sections as `locas list --sections` does: the cited passage, the
passage opened in context, the reader's contents and the chapter picker all say "2. CHAPTER
TWO", never the library's internal section id."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from ui_helpers import make_fake_window

from app.ui.memorize_dialog import MemorizeDialog

pytestmark = pytest.mark.qt


def test_one_numbering_in_citations_passage_reader_and_picker(qtbot, tmp_path, story_file):
    window, worker = make_fake_window(qtbot)
    library = window.controller.library
    other = tmp_path / "other.txt"
    other.write_text("CHAPTER I\n\n" + "An earlier book. " * 20 + "\n\nCHAPTER II\n\n"
                     + "Its second chapter. " * 20, encoding="utf-8")
    library.import_file(other)  # its sections take the first ids: the story's ids are not numbers
    doc_id = library.import_file(story_file).id
    two = library.sections(doc_id)[1]
    assert (two.title, two.number) == ("CHAPTER TWO", 2) and two.id != 2
    window.refresh()

    # A person asks; the cited passage names its section by its number.
    box = window.question_panel.question
    box.setPlainText("What hung by the door?")
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Return)
    passages = library.search("brass key hanging nail", limit=1)
    worker.answers[-1].cite(passages)
    worker.answers[-1].finish("The brass key.", passages)
    citations = window.question_panel.citations
    assert citations.item(0).text().startswith("[1] lighthouse · 2. CHAPTER TWO"), citations.item(0).text()

    # ...clicks it: the passage opens in context under the same name.
    rect = citations.visualItemRect(citations.item(0))
    qtbot.mouseClick(citations.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window._passage_dialog is not None and window._passage_dialog.isVisible())
    heading = window._passage_dialog.findChildren(QLabel)[0].text()
    assert "2. CHAPTER TWO" in heading, heading
    window._passage_dialog.close()

    # ...reads the book (Enter in the library): the contents are numbered the same way.
    view = window.library_view
    view.setFocus()
    view.setCurrentItem(view.document_item(doc_id))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    reader = window._reader
    assert [reader.contents.item(i).text() for i in range(reader.contents.count())] == [
        "1. CHAPTER ONE", "2. CHAPTER TWO"]
    reader.close()

    # ...and picks chapters to memorize (Ctrl+M): the picker numbers them alike.
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    view.document_item(doc_id).setSelected(True)
    qtbot.keyClick(window, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    dialog = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MemorizeDialog) and w.isVisible())
    qtbot.addWidget(dialog)
    assert dialog.chapters.list.item(1).text().startswith("2. CHAPTER TWO  ·  ")
    dialog.reject()
    window.close()
