"""Shared fixtures: every test gets its own LOCAS_HOME so nothing touches a real library.

The dequantized default model is cached across tests in one session folder (a cold GGUF load
takes ~20 s on CPU; the cache makes later loads fast).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.exists():
        pytest.skip(f"shared sample data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def model_cache_home(tmp_path_factory) -> Path:
    """A session-wide folder holding the dequantized default model cache."""
    return tmp_path_factory.mktemp("locas-models")


@pytest.fixture(autouse=True)
def locas_home(tmp_path, monkeypatch, model_cache_home) -> Path:
    home = tmp_path / "locas-home"
    home.mkdir()
    monkeypatch.setenv("LOCAS_HOME", str(home))
    # Share the model cache between tests: a symlink keeps each test's home otherwise separate.
    (home / "models").symlink_to(model_cache_home, target_is_directory=True)
    return home
