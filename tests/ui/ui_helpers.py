"""Shared data and helpers of the GUI tests (a plain module: conftest files are not importable)."""

from __future__ import annotations

NOTES = """# Garden notes

The quince tree by the north wall was planted by Ada Lindqvist in the autumn of 1987.
It fruits every second year; the jelly recipe uses lemon peel and a pinch of cardamom.
"""



def make_window(qtbot, preload_model: bool = False, offer_resume: bool = False):
    from app.ui.controller import AppController
    from app.ui.main_window import MainWindow

    window = MainWindow(AppController(), preload_model=preload_model, offer_resume=offer_resume)
    qtbot.addWidget(window)
    window.show()
    return window
