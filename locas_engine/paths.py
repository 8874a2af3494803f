"""Where Locas keeps its files: one data folder for caches, the library and memories.

`LOCAS_HOME` overrides the platform default so that tests and portable installs can point
everything at one folder; nothing else in the code base decides a path on its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def data_home() -> Path:
    """The data folder, created on first use (``$LOCAS_HOME`` or the platform's user data dir)."""
    env = os.environ.get("LOCAS_HOME")
    home = Path(env).expanduser() if env else Path(platformdirs.user_data_dir("locas-reader", "Locas"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def model_cache_dir() -> Path:
    """Dequantized GGUF backbones, cached as safetensors so a second load is fast."""
    path = data_home() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def memories_dir() -> Path:
    """Memory files (safetensors + JSON metadata) made by the app."""
    path = data_home() / "memories"
    path.mkdir(parents=True, exist_ok=True)
    return path
