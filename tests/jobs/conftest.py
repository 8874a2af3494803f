"""Fixtures for end-to-end job tests on the real default model with small, fast settings."""

from __future__ import annotations

import pytest


@pytest.fixture
def small_settings():
    """Settings that make the real model memorize a few hundred tokens in seconds on a CPU."""
    from app.settings import Settings

    return Settings.of(rank=8, chunk=64, context=64, steps=1, lr=4e-3, output_scale=0.125, checkpoint_every=1,
                    max_new_tokens=12, passages=2)


@pytest.fixture
def session(small_settings):
    from app.library import Library
    from app.session import Session

    s = Session(library=Library(), settings=small_settings)
    yield s
    s.library.close()
