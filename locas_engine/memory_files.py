"""A saved memory's files, read and checked without torch.

``locas memories`` and the library's start-up check every memory's files; importing torch for
that costs seconds before the window shows. So this module reads the metadata JSON with the
stdlib and the tensor file's safetensors layout (8-byte header length, JSON header, raw
little-endian bytes) directly, verifies the digest over the raw bytes (the same digest
``integrity.digest`` computes over torch tensors) and looks for NaN and Inf with numpy bit
masks. ``store`` loads tensors with torch only after this check passed.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

from .integrity import DIGEST_KEY, CorruptFileError, RawTensor, digest, non_finite

# 2: each spec once, "config" (what the memory is) and "training" (how it was last trained);
# 1 also kept rank, initializer, lr and chunking beside them, and tau_scale in the config.
FORMAT_VERSION = 2
KIND = "locas-glu-memory"
MLP_KIND = "locas-mlp-memory"
KIND_METHOD = {KIND: "locas-glu", MLP_KIND: "locas-mlp"}
_SUFFIXES = (".safetensors", ".json")


def memory_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(tensor file, metadata file) for ``path`` given with or without a suffix."""
    p = Path(path).expanduser()
    base = p.with_suffix("") if p.suffix in _SUFFIXES else p
    return base.parent / (base.name + ".safetensors"), base.parent / (base.name + ".json")


def read_memory_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The memory's JSON metadata, without loading any tensor."""
    _, meta_path = memory_paths(path)
    if not meta_path.is_file():
        raise FileNotFoundError(f"No memory metadata at {meta_path}.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorruptFileError(
            f"The memory's metadata file {meta_path} is damaged (it is not valid JSON); delete "
            "the memory and memorize its documents again, or restore the file from a backup."
        ) from exc
    if not isinstance(meta, dict) or meta.get("kind") not in KIND_METHOD or "format_version" not in meta:
        raise CorruptFileError(f"{meta_path} is not a Locas memory file; delete the memory and "
                               "memorize its documents again, or restore the file from a backup.")
    meta.setdefault("method", KIND_METHOD[meta["kind"]])  # files from before the field
    if meta["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"The memory {meta_path.name} was saved by a newer Locas (format "
            f"{meta['format_version']}); update Locas Reader to open it."
        )
    return meta


def memory_spec_values(meta: dict[str, Any]) -> dict[str, Any]:
    """The MemorySpec's values from a memory's metadata, of any format (version 1 kept rank and
    initializer beside its config, and tau_scale, 1.0 when absent, in it); ``spec.from_dict``
    makes the spec (and migrates tau_scale)."""
    cfg = dict(meta.get("config", {}))
    if meta["format_version"] < 2:
        cfg.update(rank=meta["rank"], init=meta.get("initializer", "topk"))
        if "output_scale" not in cfg:
            cfg.setdefault("tau_scale", 1.0)
    cfg.setdefault("layers", meta["layers"])
    return cfg


def damaged(path: Path, why: str) -> CorruptFileError:
    return CorruptFileError(
        f"The memory file {path} is damaged ({why}); it was not used. Delete the memory and "
        "memorize its documents again, or restore the file from a backup."
    )


def read_raw_tensors(tensor_path: Path) -> tuple[dict[str, RawTensor], dict[str, str], bytes]:
    """(tensors by name, the file's own metadata, the file's bytes) of a safetensors file,
    without torch.

    Raises CorruptFileError when the layout is broken (truncated, header overwritten, a tensor
    whose bytes do not fit its shape).
    """
    if not tensor_path.is_file():
        raise FileNotFoundError(f"The memory file {tensor_path} is missing.")
    data = tensor_path.read_bytes()
    broken = damaged(tensor_path, "it is truncated or not a tensor file")
    if len(data) < 8:
        raise broken
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise broken
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
        metadata = dict(header.pop("__metadata__", None) or {})
        body = memoryview(data)[8 + n:]
        tensors = {}
        for name, info in header.items():
            begin, end = (int(x) for x in info["data_offsets"])
            shape = tuple(int(s) for s in info["shape"])
            if not 0 <= begin <= end <= len(body):
                raise ValueError(f"{name} lies outside the file")
            tensors[name] = RawTensor(str(info["dtype"]), shape, body[begin:end])
    except (UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise broken from exc
    return tensors, metadata, data


def check_tensor_file(tensor_path: Path, meta: dict[str, Any]) -> bytes:
    """The tensor file's bytes, once they are checked: CorruptFileError unless the file is
    readable, matches its own digest and the JSON's, and holds only finite numbers. (A loader
    builds its tensors from these bytes rather than reading the file a second time.)

    Files saved before digests existed carry none; they are still checked for NaN and Inf.
    """
    tensors, own, data = read_raw_tensors(tensor_path)
    stored = own.get(DIGEST_KEY)
    if stored is not None and digest(tensors) != stored:
        raise damaged(tensor_path, "its contents do not match the checksum saved with them")
    if meta.get(DIGEST_KEY) is not None and meta[DIGEST_KEY] != (stored or digest(tensors)):
        raise CorruptFileError(
            f"The memory file {tensor_path} and its metadata file {tensor_path.with_suffix('.json')} "
            "are from different saves; it was not used. Resume the memorization (locas resume) "
            "to save both again, or delete the memory and memorize its documents again."
        )
    bad = non_finite(tensors)
    if bad:
        raise damaged(tensor_path, f"'{bad[0]}' holds NaN or infinite numbers")
    return data


def memory_file_problem(path: str | os.PathLike) -> str | None:
    """A sentence saying what is wrong with a saved memory's files, or None when they are sound.

    Reads no model and imports no torch: ``locas memories`` and the library's start-up use it so
    that a damaged memory is never listed as done.
    """
    tensor_path, _ = memory_paths(path)
    try:
        check_tensor_file(tensor_path, read_memory_metadata(path))
    except (CorruptFileError, FileNotFoundError, ValueError) as exc:
        return str(exc)
    return None
