"""Save and load memories: ``<path>.safetensors`` (tensors) beside ``<path>.json`` (metadata).

Tensors are stored in fp16: slot vectors are norm-clipped to <= 1, well inside fp16's range,
and half the bytes keep r = 64 on the default model under 7 MB. The JSON names the backbone by
fingerprint so a memory is never silently applied to a model it was not trained for.

The JSON's ``method`` says which variant wrote the file: ``"locas-glu"`` (G, K, V, tau per
layer) or ``"locas-mlp"`` (K, b, V and the slot count per layer; NL-SVD memories also keep the
probe inputs their compression needs). Files from before the field existed are Locas-GLU.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save_file

from .adapter import attach
from .atomic import atomic_write
from .backbone import Backbone
from .integrity import DIGEST_KEY, digest, non_finite
from .memory import METHOD as GLU_METHOD
from .memory import LocasMemory
from .memory_files import (  # noqa: F401  (FORMAT_VERSION, memory_file_problem: re-exported)
    FORMAT_VERSION,
    KIND,
    MLP_KIND,
    check_tensor_file,
    memory_file_problem,
    memory_paths,
    memory_spec_values,
    read_memory_metadata,
)
from .memory_files import damaged as _damaged
from .mlp.config import METHOD as MLP_METHOD
from .mlp.config import MLPMemoryConfig
from .mlp.memory import LocasMLPMemory
from .protocol import Memory
from .spec import MemorySpec, from_dict, to_dict


class MemoryMismatchError(ValueError):
    """The memory was made for another backbone (or does not fit this one)."""


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def save_memory(memory: Memory, path: str | os.PathLike,
                extra_metadata: dict[str, Any] | None = None,
                dtype: torch.dtype = torch.float16) -> Path:
    """Write the memory's tensors and metadata; returns the tensor file's path."""
    tensor_path, meta_path = memory_paths(path)
    tensor_path.parent.mkdir(parents=True, exist_ok=True)
    if memory.method == MLP_METHOD:
        return _save_mlp(memory, tensor_path, meta_path, extra_metadata, dtype)
    tensors: dict[str, torch.Tensor] = {}
    for i in memory.layers:
        m = memory.layer(i)
        tensors[f"layers.{i}.G"] = m.G.detach().to("cpu", dtype).contiguous()  # (r, d)
        tensors[f"layers.{i}.K"] = m.K.detach().to("cpu", dtype).contiguous()  # (r, d)
        tensors[f"layers.{i}.V"] = m.V.detach().to("cpu", dtype).contiguous()  # (d, r)
        tensors[f"layers.{i}.tau"] = m.tau.detach().to("cpu", torch.float32).reshape(1)
    meta = {
        "kind": KIND,
        "method": GLU_METHOD,
        **_common_metadata(memory, meta_path, extra_metadata, dtype),
        "tau": {str(i): t for i, t in memory.tau().items()},
    }
    _write_pair(tensor_path, meta_path, tensors, meta)
    return tensor_path


def _write_pair(tensor_path: Path, meta_path: Path, tensors: dict[str, torch.Tensor],
                meta: dict[str, Any]) -> None:
    """Both files carry the tensors' digest: the tensor file to check itself, the JSON to check
    that it describes these tensors and not an older or other save."""
    bad = non_finite(tensors)
    if bad:
        raise ValueError(f"The memory '{meta.get('name')}' holds NaN or infinite numbers ({bad[0]}); "
                         "it was not saved. Memorize again with a lower learning rate.")
    meta[DIGEST_KEY] = digest(tensors)
    atomic_write(tensor_path, lambda tmp: save_file(
        tensors, tmp, metadata={"kind": meta["kind"], DIGEST_KEY: meta[DIGEST_KEY]}))
    atomic_write(meta_path, lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=1, sort_keys=True)))


def _common_metadata(memory: Memory, meta_path: Path,
                     extra_metadata: dict[str, Any] | None, dtype: torch.dtype) -> dict[str, Any]:
    """The fields both variants share (names as in the Locas-GLU file)."""
    previous = read_memory_metadata(meta_path) if meta_path.is_file() else {}
    return {
        "format_version": FORMAT_VERSION,
        "name": memory.name,
        "backbone": {"name": memory.backbone_name, "fingerprint": memory.backbone_fingerprint},
        "hidden_size": memory.hidden_size,
        "layers": list(memory.layers),
        "config": to_dict(memory.config) if isinstance(memory.config, MemorySpec) else memory.config.to_dict(),
        "training": memory.training_info,  # the TrainingSpec as the last run recorded it
        "sources": memory.sources,
        "tokens": sum(int(s.get("tokens", 0)) for s in memory.sources),
        "ppl_curve": [list(c) for c in memory.curve],
        "tensor_dtype": str(dtype).replace("torch.", ""),
        "parameters": memory.num_parameters(),
        "created": previous.get("created", _now()),
        "updated": _now(),
        "extra": extra_metadata or {},
    }


def _save_mlp(memory: LocasMLPMemory, tensor_path: Path, meta_path: Path,
              extra_metadata: dict[str, Any] | None, dtype: torch.dtype) -> Path:
    """Only the written slots are stored: a half-empty memory takes half the bytes."""
    tensors: dict[str, torch.Tensor] = {}
    keep_probes = memory.config.compress == "nlsvd"  # only NL-SVD ever reads them again
    for i in memory.layers:
        m = memory.layer(i)
        n = m.n_used
        tensors[f"layers.{i}.K"] = m.K[:n].detach().to("cpu", dtype).contiguous()  # (n, d)
        tensors[f"layers.{i}.b"] = m.b[:n].detach().to("cpu", dtype).contiguous()  # (n,)
        tensors[f"layers.{i}.V"] = m.V[:, :n].detach().to("cpu", dtype).contiguous()  # (d, n)
        if keep_probes:
            tensors[f"layers.{i}.probes"] = m.probes[:n].detach().to("cpu", dtype).contiguous()
    meta = _common_metadata(memory, meta_path, extra_metadata, dtype)
    meta.update({
        "kind": MLP_KIND,
        "method": MLP_METHOD,
        "capacity": memory.capacity,
        "used": {str(i): n for i, n in memory.used().items()},
    })
    _write_pair(tensor_path, meta_path, tensors, meta)
    return tensor_path


def read_tensors(tensor_path: Path, meta: dict[str, Any]) -> dict[str, torch.Tensor]:
    """The memory's tensors, verified first (memory_files.check_tensor_file) without torch."""
    data = check_tensor_file(tensor_path, meta)
    try:
        return load(data)
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise _damaged(tensor_path, "it is truncated or not a tensor file") from exc


def _take(tensors: dict[str, torch.Tensor], key: str, like: torch.Tensor, path: Path) -> torch.Tensor:
    """The tensor ``key`` shaped like ``like``: a metadata file that disagrees with the tensors
    (other layers, another rank) must not be loaded by broadcasting."""
    t = tensors.get(key)
    if t is None or t.numel() != like.numel():
        raise _damaged(path, f"its metadata does not describe its tensors ({key})")
    return t.float().reshape(like.shape)


def load_memory(backbone: Backbone, path: str | os.PathLike, name: str | None = None,
                check_fingerprint: bool = True) -> Memory:
    """Load a saved memory and attach it to ``backbone``.

    Raises MemoryMismatchError when the memory was made for a different model: its slots would
    then point at meaningless directions of the other model's activations.
    """
    tensor_path, _ = memory_paths(path)
    meta = read_memory_metadata(path)
    try:
        return _load(backbone, tensor_path, meta, name, check_fingerprint)
    except (KeyError, TypeError, IndexError, RuntimeError) as exc:  # before anything is attached
        raise _damaged(tensor_path, f"its metadata does not describe its tensors ({exc})") from exc


def _load(backbone: Backbone, tensor_path: Path, meta: dict[str, Any], name: str | None,
          check_fingerprint: bool) -> Memory:
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
    if meta["method"] == MLP_METHOD:
        return _load_mlp(backbone, tensor_path, meta, name)
    config = _spec_of(meta)
    layers = [int(i) for i in meta["layers"]]
    ffns = [backbone.ffns[i] for i in layers]
    memory = LocasMemory(name or meta.get("name", "memory"), config, ffns,
                         bb_meta.get("name", ""), bb_meta.get("fingerprint", ""))
    tensors = read_tensors(tensor_path, meta)
    with torch.no_grad():
        for i in layers:
            m = memory.layer(i)
            for key in ("G", "K", "V", "tau"):
                target = getattr(m, key)
                target.copy_(_take(tensors, f"layers.{i}.{key}", target, tensor_path))
    memory.initialized = True
    memory.sources = list(meta.get("sources", []))
    memory.curve = [tuple(c) for c in meta.get("ppl_curve", [])]
    memory.training_info = dict(meta.get("training", {}))
    attach(backbone, memory)
    return memory


def _spec_of(meta: dict[str, Any]) -> MemorySpec:
    """The memory's spec from its file, of any format (see memory_files.memory_spec_values)."""
    return from_dict(MemorySpec, memory_spec_values(meta))


def _load_mlp(backbone: Backbone, tensor_path: Path, meta: dict[str, Any],
              name: str | None) -> LocasMLPMemory:
    known = set(MLPMemoryConfig.__dataclass_fields__)
    stored = dict(meta.get("config", {}))
    stored.setdefault("capacity", meta.get("capacity", meta.get("rank")))  # "rank": older files
    config = MLPMemoryConfig(**{k: v for k, v in stored.items() if k in known and v is not None})
    config.layers = list(meta["layers"])
    ffns = [backbone.mlp_ffns[i] for i in config.layers]
    bb_meta = meta.get("backbone", {})
    memory = LocasMLPMemory(name or meta.get("name", "memory"), config, ffns,
                            bb_meta.get("name", ""), bb_meta.get("fingerprint", ""))
    tensors = read_tensors(tensor_path, meta)
    for i in config.layers:
        m = memory.layer(i)
        K = tensors[f"layers.{i}.K"].float()  # (n, d)
        probes = tensors.get(f"layers.{i}.probes")
        probes = probes.float() if probes is not None else torch.zeros_like(K)
        m.append_(K.to(m.K.device), tensors[f"layers.{i}.b"].float().to(m.K.device),
                  tensors[f"layers.{i}.V"].float().to(m.K.device), probes.to(m.K.device))
    memory.sources = list(meta.get("sources", []))
    memory.curve = [tuple(c) for c in meta.get("ppl_curve", [])]
    memory.training_info = dict(meta.get("training", {}))
    attach(backbone, memory)
    return memory
