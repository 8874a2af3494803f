"""Library search in the window: filter as you type, by kind, full-text search on Enter, sort."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from app.ui.library_view import COL_SIZE, SORT_ROLE

pytestmark = pytest.mark.qt


def test_filter_search_and_sort_the_library(window, qtbot, story_file, notes_file):
    window.controller.import_files([str(story_file), str(notes_file)])
    view = window.library_view
    qtbot.waitUntil(lambda: len(view.document_ids()) == 2, timeout=10_000)
    library = window.controller.library
    story = next(d.id for d in library.list_documents() if d.title == "lighthouse")
    notes = next(i for i in view.document_ids() if i != story)
    library.create_memory("keeper", status="done")
    library.add_memory_source("keeper", story)  # keeper holds the whole story, as a job leaves it
    library.mark_sections_held("keeper", story, {s.id: 100 for s in library.sections(story)})
    library.update_memory_source("keeper", story, status="done")
    window.refresh()

    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    box = window.search.box
    assert box.hasFocus()
    qtbot.keyClicks(box, "garden")
    assert view.visible_document_ids() == [notes]
    box.clear()
    window.search.kind.setCurrentText("Not memorized")
    assert view.visible_document_ids() == [notes] and view.memory_item("keeper").isHidden()
    window.search.kind.setCurrentText("Everything")
    assert sorted(view.visible_document_ids()) == sorted([story, notes])

    # Enter searches the documents' text and lists the passages in place of the library.
    qtbot.keyClicks(box, "brass key")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    results = window.search.results
    qtbot.waitUntil(lambda: window.left_stack.currentWidget() is window.search_results, timeout=10_000)
    assert results.count() >= 1 and "lighthouse" in results.item(0).text()
    assert "found for “brass key”" in window.search.results_label.text()
    results.setFocus()
    qtbot.keyClick(results, Qt.Key.Key_Return)
    assert "brass key" in window._passage_dialog.highlighted_text()
    window._passage_dialog.close()
    results.setFocus()
    qtbot.keyClick(results, Qt.Key.Key_Escape)
    assert window.left_stack.currentWidget() is view

    # A click on a header sorts by it (sizes as numbers); a second click reverses.
    box.clear()
    rect = view.header()
    qtbot.mouseClick(rect.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.viewport().rect().topLeft() + _section_center(rect, COL_SIZE))
    docs_group = view.topLevelItem(0)
    assert docs_group.text(0).startswith("Documents")
    sizes = [docs_group.child(i).data(COL_SIZE, SORT_ROLE) for i in range(docs_group.childCount())]
    assert sizes == sorted(sizes)
    qtbot.mouseClick(rect.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.viewport().rect().topLeft() + _section_center(rect, COL_SIZE))
    assert view.topLevelItem(0).text(0).startswith("Documents")  # groups keep their order
    sizes = [docs_group.child(i).data(COL_SIZE, SORT_ROLE) for i in range(docs_group.childCount())]
    assert sizes == sorted(sizes, reverse=True)


def _section_center(header, col):
    from PySide6.QtCore import QPoint

    return QPoint(header.sectionViewportPosition(col) + header.sectionSize(col) // 2, header.height() // 2)


def test_after_a_text_search_esc_shows_the_whole_library_again(window, qtbot, story_file, notes_file):
    """Enter searched the text, Esc came back: every row must show, not a library filtered by the
    query ("Documents (2)" over no rows); while a filter hides rows, the heading says so."""
    window.controller.import_files([str(story_file), str(notes_file)])
    view = window.library_view
    qtbot.waitUntil(lambda: len(view.document_ids()) == 2, timeout=10_000)
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    box = window.search.box
    qtbot.keyClicks(box, "garden")
    assert view.topLevelItem(0).text(0) == "Documents (1 of 2 shown)"
    box.clear()
    qtbot.keyClicks(box, "brass key")
    qtbot.keyClick(box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.left_stack.currentWidget() is window.search_results, timeout=10_000)
    qtbot.keyClick(window.search.results, Qt.Key.Key_Escape)
    assert window.left_stack.currentWidget() is view
    assert sorted(view.visible_document_ids()) == sorted(view.document_ids())
    assert view.topLevelItem(0).text(0) == "Documents (2)"
    assert box.text() == ""
