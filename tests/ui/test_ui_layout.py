"""The window at a laptop's size: every library column in sight, a long status never widens it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.ui.library_rows import DocumentRow, MemoryRow
from app.ui.library_view import COL_PROGRESS, COL_SIZE, COL_STATUS
from locas_engine.routing import Route

pytestmark = pytest.mark.qt


def test_900x600_shows_every_column_after_a_long_routed_answer(window, qtbot):
    view, panel = window.library_view, window.question_panel
    view.set_rows([DocumentRow(1, "Moby Dick; or, The Whale", authors=["Herman Melville"],
                               characters=1_200_000, memories=["loomings", "whale-book"])],
                  [MemoryRow("loomings", "running", 3000, 100_000)])
    window.left_stack.setCurrentIndex(1)
    panel.begin("single")
    panel.finish_answer("single", SimpleNamespace(
        text="Ishmael.", citations=[], seconds=459.4, memories=["loomings"],
        route=Route(["loomings"], {"loomings": 2.0, "all": 2.5})))
    assert "loomings" in panel.status.full_text()

    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.width() == 900)
    assert window.minimumSizeHint().width() <= 900
    header = view.header()
    for col in (COL_STATUS, COL_PROGRESS):
        right = header.sectionViewportPosition(col) + header.sectionSize(col)
        assert 0 <= header.sectionViewportPosition(col) and right <= view.viewport().width()
    assert not view.horizontalScrollBar().isVisible()
    assert header.sectionSize(0) >= 100  # the title stays readable


def test_900x600_library_cells_show_their_sizes_and_states(window, qtbot):
    """At a laptop's size the short cells are whole ("not memorized", "293k chars", "ready"),
    not "not mem…", and the title keeps most of the rest."""
    view = window.library_view
    view.set_rows([DocumentRow(1, "Conversation between Caroline and Melanie", kind="chat",
                               authors=["Caroline", "Melanie"], characters=83_000),
                   DocumentRow(2, "Children's Literature", authors=["Charles Madison Curry"],
                               characters=293_000, memories=["kids"])],
                  [MemoryRow("kids", "done", 80_000, 80_000)])
    window.left_stack.setCurrentIndex(1)
    window.resize(900, 600)
    qtbot.waitUntil(lambda: window.width() == 900)
    header, fm = view.header(), view.fontMetrics()
    for item in (view.document_item(1), view.document_item(2), view.memory_item("kids")):
        for col in (COL_SIZE, COL_STATUS):
            if item.text(col) in ("not memorized", "ready", "kids") or col == COL_SIZE:
                assert header.sectionSize(col) >= fm.horizontalAdvance(item.text(col)) + 8, item.text(col)
    assert header.sectionSize(0) >= 130
    assert not view.horizontalScrollBar().isVisible()
    # no memory is running: no empty Progress column takes the title's room
    assert header.isSectionHidden(COL_PROGRESS)


def test_settings_fit_a_600px_screen_and_fold_back_and_set_the_precision(qtbot):
    from PySide6.QtCore import Qt

    from app.settings import Settings
    from app.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(Settings())
    qtbot.addWidget(dialog)
    dialog.show()
    folded = dialog.height()
    qtbot.mouseClick(dialog.form.advanced.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.advanced.content.isVisible())
    assert dialog.minimumSizeHint().height() <= 560 and dialog.height() <= 560
    dialog.form.precision.setCurrentText("fp32")  # the precision control, from the specs' knobs
    qtbot.mouseClick(dialog.form.advanced.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.height() <= folded + 2, timeout=2000)  # gives the height back
    assert dialog.result_settings().training.precision == "fp32"


def test_the_memorize_dialog_fits_a_600px_screen_and_long_titles_wrap(qtbot):
    from PySide6.QtCore import Qt

    from app.settings import Settings
    from app.ui.memorize_dialog import MemorizeDialog

    long_title = "CHAPTER 56. Of the Less Erroneous Pictures of Whales, and the True Pictures of Whaling Scenes."
    sections = [(i, long_title if i == 56 else f"CHAPTER {i}. Loomings", 12_000) for i in range(1, 140)]
    dialog = MemorizeDialog([1], ["Moby-Dick; or, The Whale"], ["whales"], Settings(), sections=sections,
                            estimator=lambda r: "x")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.form.advanced.toggle, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.form.advanced.content.isVisible())
    assert dialog.minimumSizeHint().height() <= 560 and dialog.height() <= 560
    chapters = dialog.chapters.list
    assert chapters.horizontalScrollBar().maximum() == 0  # never scrolled sideways
    assert long_title in chapters.item(55).text() and chapters.item(55).toolTip() == long_title
    # adding to an existing memory keeps its shape and its precision, whatever the form shows
    dialog.form.precision.setCurrentText("bf16")
    dialog.existing_memory.setChecked(True)
    assert not dialog.form.precision.isEnabled()
    assert dialog.request().specs.training.precision == Settings().training.precision
