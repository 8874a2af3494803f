"""Where a memory's files are, given what the library stored.

The library stores a memory's file stem relative to the data folder's ``memories`` folder, so a
data folder that is copied or moved (a backup restored, a new computer) reads its own files, not
the old folder's. Libraries written before this stored absolute paths: those are mapped into
the current memories folder too when the files are there.
"""

from __future__ import annotations

from pathlib import Path

from app.paths import memories_dir

TENSORS, META, CHECKPOINT = ".safetensors", ".json", ".ckpt"
SPECS = ".spec.json"  # the memory's specs from its creation on (app/memorize/specs.py)
MEMORY_SUFFIXES = (TENSORS, META, CHECKPOINT, SPECS)  # every file a memory may have beside its stem


def memory_file(stem: str | Path, suffix: str) -> Path:
    """The memory's file of one kind: ``suffix`` appended to the stem, as the engine's store
    names them (``Path.with_suffix`` would cut a stem like "vol.2" short)."""
    stem = Path(stem)
    return stem.parent / (stem.name + suffix)


def stored_memory_path(path: Path) -> str:
    """The form to store: relative when the file lies in the current memories folder."""
    try:
        return str(path.relative_to(memories_dir()))
    except ValueError:
        return str(path)


def resolve_memory_path(stored: str | None) -> str | None:
    """The stored path as an absolute path in this data folder (None stays None)."""
    if not stored:
        return stored
    path = Path(stored)
    here = memories_dir()
    if not path.is_absolute():
        return str(here / path)
    if path.parent != here and path.parent.name == "memories":
        local = here / path.name
        if any(memory_file(local, s).exists() for s in MEMORY_SUFFIXES):
            return str(local)
    return str(path)
