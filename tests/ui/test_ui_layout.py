"""The window at a laptop's size: every library column in sight, a long status never widens it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from app.ui.library_view import COL_PROGRESS, COL_STATUS, DocumentRow, MemoryRow
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
