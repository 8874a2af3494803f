"""Checksums and sanity checks for memory and checkpoint files: nothing corrupt is ever used.

A memory file that lost 4 KiB to a bad disk, or whose numbers turned to NaN, still loads: its
tensors have the right shapes, and the model then answers with an empty string. So every memory
and every checkpoint carries a digest of its own contents, computed before it is written and
verified after it is read, and every loaded tensor must be finite.

The digest covers each tensor's name, dtype, shape and bytes (and, for checkpoints, every other
value), so it is independent of how a file format lays the bytes out, and a file can carry the
digest of its own contents inside itself (safetensors metadata, a key of the checkpoint dict).

This module does not import torch: a tensor file read as raw bytes (``RawTensor``, see
memory_files) is hashed and checked exactly as the torch tensors it holds, so the start-up file
check needs no torch. A value can only be a torch tensor once torch is loaded, so the torch
checks look torch up in ``sys.modules`` instead of importing it.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

DIGEST_KEY = "sha256"  # in the safetensors metadata, the JSON metadata and the checkpoint dict


class CorruptFileError(ValueError):
    """A memory or checkpoint file is damaged; str() says which file and what to do."""


# safetensors dtype -> (torch's name for it, the unsigned int of its width, its exponent bits)
_DTYPES: dict[str, tuple[str, str, int | None]] = {
    "F16": ("torch.float16", "<u2", 0x7C00),
    "BF16": ("torch.bfloat16", "<u2", 0x7F80),
    "F32": ("torch.float32", "<u4", 0x7F800000),
    "F64": ("torch.float64", "<u8", 0x7FF0000000000000),
    "I64": ("torch.int64", "<u8", None),
    "I32": ("torch.int32", "<u4", None),
    "I16": ("torch.int16", "<u2", None),
    "I8": ("torch.int8", "u1", None),
    "U8": ("torch.uint8", "u1", None),
    "BOOL": ("torch.bool", "u1", None),
}


@dataclass(frozen=True)
class RawTensor:
    """A tensor as a safetensors file stores it: dtype name, shape and little-endian bytes."""

    dtype: str  # safetensors' name: F16, BF16, F32, ...
    shape: tuple[int, ...]
    data: memoryview

    def __post_init__(self) -> None:
        if self.dtype not in _DTYPES:
            raise ValueError(f"unknown dtype {self.dtype}")
        count = 1
        for s in self.shape:
            count *= s
        if count * np.dtype(_DTYPES[self.dtype][1]).itemsize != len(self.data):
            raise ValueError(f"{len(self.data)} bytes do not hold a {self.dtype} tensor of shape {self.shape}")

    def non_finite(self) -> bool:
        """True when a float holds NaN or Inf: all its exponent bits are set."""
        _, uint, exponent = _DTYPES[self.dtype]
        if exponent is None or not len(self.data):
            return False
        bits = np.frombuffer(self.data, dtype=uint)
        return bool(((bits & exponent) == exponent).any())


def _torch_tensor(value: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def _feed_tensor(h: Any, dtype: str, shape: tuple[int, ...], data: Any) -> None:
    """One tensor: its torch dtype name and shape, then its bytes (little-endian)."""
    h.update(f"T{dtype}{shape}".encode())
    h.update(data)


def _feed(h: Any, value: Any) -> None:
    """Hash ``value`` in a canonical way (dict keys sorted, tensors by dtype, shape and bytes)."""
    if _torch_tensor(value):
        import torch

        t = value.detach().to("cpu").contiguous()
        _feed_tensor(h, str(t.dtype), tuple(t.shape),
                     t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    elif isinstance(value, RawTensor):
        _feed_tensor(h, _DTYPES[value.dtype][0], value.shape, value.data)
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
        if _torch_tensor(value):
            import torch

            if value.is_floating_point() and value.numel() and not bool(torch.isfinite(value).all()):
                bad.append(str(name))
        elif isinstance(value, RawTensor):
            if value.non_finite():
                bad.append(str(name))
        elif isinstance(value, Mapping):
            bad.extend(f"{name}.{inner}" for inner in non_finite(value))
    return bad
