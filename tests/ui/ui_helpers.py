"""Shared data and helpers of the GUI tests (a plain module: conftest files are not importable)."""

from __future__ import annotations

STORY = """CHAPTER ONE

The lighthouse keeper of Port Annick was a woman named Maren Solberg, and she had kept the light
for thirty-one winters. Every evening she climbed the one hundred and twelve steps with a can of
whale oil and a brass key that her grandfather had cut in Bergen. The ships that passed the
point knew her lamp by its rhythm: two long flashes and one short, repeated until dawn.

In the spring of the year the harbour froze late, a boy called Tobias arrived on the mail boat
with a letter for her. The letter said that the lighthouse would be fitted with an electric lamp
and that her services would no longer be required after the feast of Saint John.

CHAPTER TWO

Maren read the letter twice and then folded it into the pocket of her blue wool coat. She taught
Tobias how to trim a wick, how to polish the great lens with vinegar and newspaper, and how to
count the seconds between flashes by saying the names of the islands: Skarv, Lunde, Vikholmen.
When the engineers came in June, they found the lamp already dark and the brass key hanging on a
nail by the door, with a note that said only: the light is yours now, keep it honest.
"""

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
