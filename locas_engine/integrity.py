"""Checksums and sanity checks for memory and checkpoint files: nothing corrupt is ever used.

A memory file that lost 4 KiB to a bad disk, or whose numbers turned to NaN, still loads: its
tensors have the right shapes, and the model then answers with an empty string. So every memory
and every checkpoint carries a digest of its own contents, computed before it is written and
verified after it is read, and every loaded tensor must be finite.

The digest covers each tensor's name, dtype, shape and bytes (and, for checkpoints, every other
value), so it is independent of how a file format lays the bytes out, and a file can carry the
digest of its own contents inside itself (safetensors metadata, a key of the checkpoint dict).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import torch

DIGEST_KEY = "sha256"  # in the safetensors metadata, the JSON metadata and the checkpoint dict


class CorruptFileError(ValueError):
    """A memory or checkpoint file is damaged; str() says which file and what to do."""


def _feed(h: Any, value: Any) -> None:
    """Hash ``value`` in a canonical way (dict keys sorted, tensors by dtype, shape and bytes)."""
    if isinstance(value, torch.Tensor):
        t = value.detach().to("cpu").contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(value, Mapping):
        h.update(b"{")
        for key in sorted(value, key=repr):
            h.update(repr(key).encode())
            _feed(h, value[key])
        h.update(b"}")
    elif isinstance(value, (list, tuple)):
        h.update(b"[")
        for item in value:
            _feed(h, item)
        h.update(b"]")
    else:
        h.update(repr(value).encode())


def digest(value: Any) -> str:
    """Hex sha256 of a tensor dict (or any nest of dicts, lists, tensors and plain values)."""
    h = hashlib.sha256()
    _feed(h, value)
    return h.hexdigest()


def non_finite(tensors: Mapping[str, Any]) -> list[str]:
    """Names of the floating-point tensors (searched through nested dicts) holding NaN or Inf."""
    bad: list[str] = []
    for name, value in tensors.items():
        if isinstance(value, torch.Tensor):
            if value.is_floating_point() and value.numel() and not bool(torch.isfinite(value).all()):
                bad.append(str(name))
        elif isinstance(value, Mapping):
            bad.extend(f"{name}.{inner}" for inner in non_finite(value))
    return bad
