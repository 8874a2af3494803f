"""Shared fixtures: every test gets its own LOCAS_HOME so nothing touches a real library.

The dequantized default model is cached across tests in one session folder (a cold GGUF load
takes ~20 s on CPU; the cache makes later loads fast).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

# The tiny random-weight models every suite builds on (tests/engine/engine_helpers.py).
sys.path.insert(0, str(Path(__file__).resolve().parent / "engine"))

# Public-domain books and LoCoMo chats that some tests read; beside the clone (../shared/data),
# or wherever LOCAS_SHARED_DATA points. Without them those tests skip, and the summary says so.
SHARED_DATA = Path(os.environ.get("LOCAS_SHARED_DATA")
                   or Path(__file__).resolve().parents[2] / "shared" / "data")
_SHARED_SKIP = "shared sample data not found at"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"{_SHARED_SKIP} {SHARED_DATA}")
    return SHARED_DATA


def pytest_terminal_summary(terminalreporter) -> None:
    """Say plainly when the shared data was missing and how many tests it skipped."""
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if _SHARED_SKIP in str(r.longrepr)]
    if skipped:
        terminalreporter.write_line(
            f"Shared test data not found at {SHARED_DATA}: {len(skipped)} test(s) that read real "
            "books and chats were skipped. Put the data there or set LOCAS_SHARED_DATA to run them "
            "(README.md, 'Run the tests').", yellow=True, bold=True)


@pytest.fixture(scope="session")
def model_cache_home(tmp_path_factory) -> Path:
    """A session-wide folder holding the dequantized default model cache."""
    return tmp_path_factory.mktemp("locas-models")


@pytest.fixture(autouse=True)
def locas_home(tmp_path, monkeypatch, model_cache_home) -> Path:
    home = tmp_path / "locas-home"
    home.mkdir()
    monkeypatch.setenv("LOCAS_HOME", str(home))
    # Share the model cache between tests: a symlink keeps each test's home otherwise separate;
    # the engine alone (load_backbone without the app) caches there too.
    (home / "models").symlink_to(model_cache_home, target_is_directory=True)
    monkeypatch.setenv("LOCAS_MODEL_CACHE", str(model_cache_home))
    return home


# A short original story: a few hundred tokens, so the real model memorizes it in seconds.
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
