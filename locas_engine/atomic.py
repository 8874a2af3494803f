"""Atomic file writes, without torch: a crash or a kill never leaves half a file.

Memories, checkpoints and a memory's spec file are all written through ``atomic_write``; the
library's start-up (no torch) writes spec files too, so this lives apart from checkpoint.py.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def temp_files(path: Path) -> list[Path]:
    """Temp files left beside ``path`` by atomic writes that were killed before their rename."""
    if not path.parent.is_dir():
        return []
    return sorted(path.parent.glob(f".{path.name}.*"))


def atomic_write(path: Path, write) -> None:
    """``write(tmp)`` a temp file in the same folder, then rename: a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
