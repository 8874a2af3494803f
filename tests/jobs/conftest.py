"""Fixtures for end-to-end job tests on the real default model with small, fast settings."""

from __future__ import annotations

from pathlib import Path

import pytest

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


@pytest.fixture
def story_file(tmp_path) -> Path:
    path = tmp_path / "lighthouse.txt"
    path.write_text(STORY, encoding="utf-8")
    return path


@pytest.fixture
def small_settings():
    """Settings that make the real model memorize a few hundred tokens in seconds on a CPU."""
    from app.settings import Settings

    return Settings(rank=8, chunk=64, context=64, steps=1, lr=4e-3, checkpoint_every=1,
                    max_new_tokens=12, passages=2)


@pytest.fixture
def session(small_settings):
    from app.library import Library
    from app.session import Session

    s = Session(library=Library(), settings=small_settings)
    yield s
    s.library.close()
