"""Checkpoint files of a running memorization: written atomically, carrying their own digest.

A checkpoint is a ``torch.save`` dict (loaded with ``weights_only=True``: no pickled code runs).
Its ``sha256`` key holds the digest of every other key, so a truncated, zero-byte, overwritten
or NaN-filled checkpoint is refused with a sentence instead of resuming from garbage.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from .atomic import atomic_write
from .integrity import DIGEST_KEY, CorruptFileError, digest, non_finite


class CheckpointError(CorruptFileError):
    """The checkpoint cannot be used; the memory's last completed save is untouched."""


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` with its digest (the caller's dict is not changed)."""
    sealed = {k: v for k, v in state.items() if k != DIGEST_KEY}
    sealed[DIGEST_KEY] = digest(sealed)
    atomic_write(path, lambda tmp: torch.save(sealed, tmp))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint's state, verified; raises CheckpointError naming the file otherwise.

    Checkpoints from before digests existed load when their memory tensors are finite.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise _broken(path, "it is empty, truncated or not a checkpoint") from exc
    if not isinstance(state, dict):
        raise _broken(path, "it is not a Locas checkpoint")
    stored = state.pop(DIGEST_KEY, None)
    if stored is not None and digest(state) != stored:
        raise _broken(path, "its contents do not match the checksum saved with them")
    memory = state.get("memory")
    if isinstance(memory, dict) and non_finite(memory):
        raise _broken(path, "it holds NaN or infinite numbers")
    return state


def _broken(path: Path, why: str) -> CheckpointError:
    return CheckpointError(f"The checkpoint file {path} is damaged ({why}).")
