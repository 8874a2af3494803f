"""A Session over a tiny random-weight model with a character tokenizer: whole jobs in seconds.

Reliability tests damage files and race processes around real jobs (import, memorize, ask);
the model's quality does not matter to them, only that every path runs end to end.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))  # engine_helpers

STORY = "The keeper climbed one hundred and twelve steps every evening with a brass key. " * 6
OTHER = "Rain fell on the harbour of Port Annick while the ferry waited for the mail. " * 6


@pytest.fixture
def in_threads():
    """Runs a function in `count` threads that start it together (a race); returns what they
    raised, each exception once, so that the test can assert there was none."""

    def race(fn, count: int) -> list[BaseException]:
        barrier = threading.Barrier(count)
        errors: list[BaseException] = []

        def one():
            barrier.wait()
            try:
                fn()
            except BaseException as exc:  # noqa: BLE001 - handed back to the test
                errors.append(exc)

        threads = [threading.Thread(target=one) for _ in range(count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return errors

    return race


@pytest.fixture(scope="session")
def tiny_backbone():
    from engine_helpers import CharTokenizer, tiny_model

    from locas_engine import backbone_from_model

    return backbone_from_model(tiny_model("llama"), tokenizer=CharTokenizer(), name="tiny-llama")


@pytest.fixture
def tiny_session(tiny_backbone):
    """A Session whose model is the tiny backbone (no memories attached at the start)."""
    from app.library import Library
    from app.session import Session
    from app.settings import Settings
    from locas_engine import detach_memory

    settings = Settings.of(rank=4, chunk=64, context=16, steps=1, lr=1e-2, output_scale=0.25,
                        checkpoint_every=1, max_new_tokens=4, passages=1)
    session = Session(library=Library(), settings=settings)
    session.use_backbone(tiny_backbone)
    yield session
    for name in list(tiny_backbone.memories):
        detach_memory(tiny_backbone, name)
    session.library.close()


@pytest.fixture
def texts(tmp_path) -> tuple[Path, Path]:
    a, b = tmp_path / "story.txt", tmp_path / "other.txt"
    a.write_text(STORY)
    b.write_text(OTHER)
    return a, b
