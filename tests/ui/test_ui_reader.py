"""Read shows the whole document: a table of contents, previous and next."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

pytestmark = pytest.mark.qt


def test_read_walks_the_sections_with_contents_and_next(window, qtbot, story_file):
    window.controller.import_files([str(story_file)])
    view = window.library_view
    qtbot.waitUntil(lambda: len(view.document_ids()) == 1, timeout=10_000)
    view.setFocus()
    view.setCurrentItem(view.document_item(view.document_ids()[0]))
    qtbot.keyClick(view, Qt.Key.Key_Return)  # Enter reads, like a double click
    reader = window._reader
    assert [reader.contents.item(i).text() for i in range(reader.contents.count())] == [
        "1. CHAPTER ONE", "2. CHAPTER TWO"]  # numbered as `locas list --sections` numbers them
    assert "Maren Solberg" in reader.text.toPlainText() and not reader.previous_button.isEnabled()
    from PySide6.QtWidgets import QApplication

    qtbot.waitUntil(lambda: QApplication.activeWindow() is reader, timeout=5_000)
    qtbot.keyClick(reader, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert reader.title.text() == "2. CHAPTER TWO" and "brass key" in reader.text.toPlainText()
    assert reader.position.text() == "2 of 2" and not reader.next_button.isEnabled()
    reader.previous_button.click()
    assert reader.title.text() == "1. CHAPTER ONE"
    reader.close()
