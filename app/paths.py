"""Where Locas Reader keeps its files: one data folder for the library, memories, settings and
the models it caches.

`LOCAS_HOME` overrides the platform default so that tests and portable installs can point
everything at one folder; nothing else in the code base decides a path on its own.

Privacy: the folder holds a person's private notes (the library) and what was learned from them
(memories), so folders made here are 0700 and files made through ``private_file`` 0600 on POSIX.
We set modes explicitly per path rather than through the process umask, which would also change
files the user exports on purpose.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


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
    """Dequantized GGUF backbones, cached as safetensors so a second load is fast (the app
    hands it to the engine's load_backbone)."""
    return private_dir(data_home() / "models")


def memories_dir() -> Path:
    """Memory files (safetensors + JSON metadata) made by the app."""
    return private_dir(data_home() / "memories")
