"""Save and load memories: ``<path>.safetensors`` (tensors) beside ``<path>.json`` (metadata).

Tensors are stored in fp16: slot vectors are norm-clipped to <= 1, well inside fp16's range,
and half the bytes keep r = 64 on the default model under 7 MB. The JSON names the backbone by
fingerprint so a memory is never silently applied to a model it was not trained for.
"""

from __future__ import annotations

import json
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from .backbone import Backbone
from .memory import LocasMemory, MemoryConfig, attach

FORMAT_VERSION = 1
KIND = "locas-glu-memory"
_SUFFIXES = (".safetensors", ".json")


class MemoryMismatchError(ValueError):
    """The memory was made for another backbone (or does not fit this one)."""


def memory_paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(tensor file, metadata file) for ``path`` given with or without a suffix."""
    p = Path(path).expanduser()
    base = p.with_suffix("") if p.suffix in _SUFFIXES else p
    return base.parent / (base.name + ".safetensors"), base.parent / (base.name + ".json")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def save_memory(memory: LocasMemory, path: str | os.PathLike,
                extra_metadata: dict[str, Any] | None = None,
                dtype: torch.dtype = torch.float16) -> Path:
    """Write the memory's tensors and metadata; returns the tensor file's path."""
    tensor_path, meta_path = memory_paths(path)
    tensor_path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    for i in memory.layers:
        m = memory.layer(i)
        tensors[f"layers.{i}.G"] = m.G.detach().to("cpu", dtype).contiguous()  # (r, d)
        tensors[f"layers.{i}.K"] = m.K.detach().to("cpu", dtype).contiguous()  # (r, d)
        tensors[f"layers.{i}.V"] = m.V.detach().to("cpu", dtype).contiguous()  # (d, r)
        tensors[f"layers.{i}.tau"] = m.tau.detach().to("cpu", torch.float32).reshape(1)
    previous = read_memory_metadata(meta_path) if meta_path.is_file() else {}
    meta = {
        "kind": KIND,
        "format_version": FORMAT_VERSION,
        "name": memory.name,
        "backbone": {"name": memory.backbone_name, "fingerprint": memory.backbone_fingerprint},
        "hidden_size": memory.hidden_size,
        "layers": list(memory.layers),
        "rank": memory.rank,
        "tau": {str(i): t for i, t in memory.tau().items()},
        "initializer": memory.config.init,
        "config": memory.config.to_dict(),
        "lr": memory.training_info.get("lr"),
        "chunking": {k: memory.training_info.get(k) for k in ("chunk", "context", "steps")},
        "training": memory.training_info,
        "sources": memory.sources,
        "tokens": sum(int(s.get("tokens", 0)) for s in memory.sources),
        "ppl_curve": [list(c) for c in memory.curve],
        "tensor_dtype": str(dtype).replace("torch.", ""),
        "parameters": memory.num_parameters(),
        "created": previous.get("created", _now()),
        "updated": _now(),
        "extra": extra_metadata or {},
    }
    _atomic_write(tensor_path, lambda tmp: save_file(tensors, tmp, metadata={"kind": KIND}))
    _atomic_write(meta_path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1, sort_keys=True)))
    return tensor_path


def read_memory_metadata(path: str | os.PathLike) -> dict[str, Any]:
    """The memory's JSON metadata, without loading any tensor."""
    _, meta_path = memory_paths(path)
    if not meta_path.is_file():
        raise FileNotFoundError(f"No memory metadata at {meta_path}.")
    meta = json.loads(meta_path.read_text())
    if meta.get("kind") != KIND or "format_version" not in meta:
        raise ValueError(f"{meta_path} is not a Locas memory file.")
    if meta["format_version"] > FORMAT_VERSION:
        raise ValueError(
            f"The memory {meta_path.name} was saved by a newer Locas (format "
            f"{meta['format_version']}); update Locas Reader to open it."
        )
    return meta


def load_memory(backbone: Backbone, path: str | os.PathLike, name: str | None = None,
                check_fingerprint: bool = True) -> LocasMemory:
    """Load a saved memory and attach it to ``backbone``.

    Raises MemoryMismatchError when the memory was made for a different model: its slots would
    then point at meaningless directions of the other model's activations.
    """
    tensor_path, _ = memory_paths(path)
    meta = read_memory_metadata(path)
    bb_meta = meta.get("backbone", {})
    if check_fingerprint and bb_meta.get("fingerprint") != backbone.fingerprint:
        raise MemoryMismatchError(
            f"The memory '{meta.get('name')}' was made for the model '{bb_meta.get('name')}', "
            f"but the model loaded now is '{backbone.name}', a different one; load "
            f"'{bb_meta.get('name')}' to use this memory."
        )
    if meta["hidden_size"] != backbone.hidden_size or max(meta["layers"]) >= backbone.num_layers:
        raise MemoryMismatchError(
            f"The memory '{meta.get('name')}' does not fit the model '{backbone.name}' (it was "
            f"made for a model with hidden size {meta['hidden_size']} and at least "
            f"{max(meta['layers']) + 1} layers)."
        )
    cfg = dict(meta.get("config", {}))
    config = MemoryConfig(
        rank=meta["rank"], layers=meta["layers"], init=meta.get("initializer", "topk"),
        tau_scale=cfg.get("tau_scale", 1.0), clip=cfg.get("clip", True), seed=cfg.get("seed", 0),
    )
    ffns = [backbone.ffns[i] for i in config.layers]
    memory = LocasMemory(name or meta.get("name", "memory"), config, ffns,
                         bb_meta.get("name", ""), bb_meta.get("fingerprint", ""))
    tensors = load_file(str(tensor_path))
    with torch.no_grad():
        for i in config.layers:
            m = memory.layer(i)
            m.G.copy_(tensors[f"layers.{i}.G"].float())
            m.K.copy_(tensors[f"layers.{i}.K"].float())
            m.V.copy_(tensors[f"layers.{i}.V"].float())
            m.tau.copy_(tensors[f"layers.{i}.tau"].float().reshape(()))
    memory.initialized = True
    memory.sources = list(meta.get("sources", []))
    memory.curve = [tuple(c) for c in meta.get("ppl_curve", [])]
    memory.training_info = dict(meta.get("training", {}))
    attach(backbone, memory)
    return memory
