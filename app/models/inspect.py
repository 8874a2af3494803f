"""What a model on disk is, without loading its weights: size, architecture, parameter count,
whether Locas-GLU or Locas-MLP fits it, and the memory it needs to run.

A GGUF file's header is read once, with the tokenizer's big arrays skipped (`gguf_header`). For
the GLU architectures the header alone describes (`header_description`: LLaMA, Qwen, Gemma...)
that is all, and neither torch nor transformers is imported. Any other model's configuration
comes from its config.json (a Hugging Face folder) or its GGUF header (`gguf_config`), and the
fit check builds the model's skeleton on PyTorch's "meta" device (shapes only, no memory) and
asks the engine's own FFN finders through `Backbone.ffn_kind`; tests check that both ways say
the same of every architecture the header alone describes, so the app and the engine never
disagree about which models fit.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .. import units
from .check import is_gguf_file, model_problem

FP32_BYTES = 4  # the CPU (and MPS) run the backbone in fp32
RUN_OVERHEAD = 1.2  # activations, the tokenizer, the memory and the optimizer state on top


@dataclass
class ModelInfo:
    """One model as the model manager shows it; ``problem`` is None when Locas can use it."""

    name: str
    source: str  # where it was found: "Hugging Face cache", "LM Studio", "chosen by hand", ...
    path: Path  # the folder, the .gguf file (or an Ollama blob)
    setting: str  # what goes into Settings.model
    size_bytes: int = 0
    architecture: str | None = None  # config model_type, e.g. "gemma3_text"
    parameters: int | None = None
    weights: str | None = None  # storage: "Q4_K_M", "bfloat16", ...
    method: str | None = None  # "locas-glu" or "locas-mlp"
    memory_bytes: int | None = None  # to run on the CPU (fp32 weights + working memory)
    problem: str | None = None

    @property
    def fits(self) -> bool:
        return self.problem is None


def folder_size(path: Path) -> int:
    """Bytes on disk of a file or a folder (symlinks followed, as in the Hugging Face cache)."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def total_ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not POSIX
        return None


def _config(path: Path, header):
    """The model's transformers config: its config.json, or its GGUF ``header`` read once by
    `gguf_header`."""
    if header is not None:
        from .gguf_config import gguf_config

        return gguf_config(path, header)
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(str(path), local_files_only=True)


# -- the description cache: one JSON file in the data folder ------------------------------------
CACHE_FILE = "described.json"
_CACHE_FORMAT = 1
_CACHED_FIELDS = ("size_bytes", "architecture", "parameters", "weights", "method", "memory_bytes",
                  "problem", "name")
_cache_lock = threading.Lock()


def _cache_path() -> Path:
    from app.paths import model_cache_dir

    return model_cache_dir() / CACHE_FILE


def _cache_stamp() -> dict:
    """What a cached description depends on besides the file: this cache's format and the
    transformers version (a newer one may read an architecture an older one could not)."""
    try:
        from importlib.metadata import version

        transformers = version("transformers")
    except Exception:  # noqa: BLE001 - not installed: nothing can be described anyway
        transformers = None
    return {"format": _CACHE_FORMAT, "transformers": transformers}


def _read_cache() -> dict:
    try:
        data = json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("stamp") != _cache_stamp():
        return {}
    models = data.get("models")
    return models if isinstance(models, dict) else {}


def _write_cache(key: str, info: ModelInfo) -> None:
    from locas_engine.atomic import atomic_write

    with _cache_lock:
        models = _read_cache()
        models[key] = {f: getattr(info, f) for f in _CACHED_FIELDS}
        data = {"stamp": _cache_stamp(), "models": models}
        try:
            atomic_write(_cache_path(), lambda tmp: Path(tmp).write_text(json.dumps(data, indent=1)))
        except OSError:  # a read-only data folder: described again next time, nothing lost
            pass


def _file_key(path: Path) -> str | None:
    """The model's path and the state of its files: a change to any of them is a new key."""
    try:
        if path.is_dir():
            st = (path / "config.json").stat()
            size = folder_size(path)
        else:
            st = path.stat()
            size = st.st_size
        return f"{path.resolve()}|{size}|{st.st_mtime_ns}"
    except OSError:
        return None


def inspect_model(path: str | os.PathLike, source: str = "chosen by hand", name: str | None = None,
                  setting: str | None = None, ram_bytes: int | None = None) -> ModelInfo:
    """Describe the model at ``path`` (never loads weights, never downloads). ``ram_bytes``
    overrides this computer's memory for the memory check (tests).

    A description is kept in the data folder (``models/described.json``), keyed by the model's
    path, size and modification time, so a model is read once: listing the models again reads
    no model file and imports neither torch nor transformers."""
    p = Path(path).expanduser()
    info = ModelInfo(name=name or p.name, source=source, path=p, setting=setting or str(p))
    info.problem = model_problem(str(p))
    if info.problem:
        return info
    key = _file_key(p)
    cached = _read_cache().get(key) if key else None
    if isinstance(cached, dict) and set(cached) == set(_CACHED_FIELDS):
        for f in _CACHED_FIELDS[:-1]:
            setattr(info, f, cached[f])
        if info.problem and cached["name"] and cached["name"] != info.name:
            info.problem = info.problem.replace(cached["name"], info.name)
    else:
        _describe(info)
        if key:
            _write_cache(key, info)
    return _check_ram(info, ram_bytes)


def _check_ram(info: ModelInfo, ram_bytes: int | None) -> ModelInfo:
    ram = ram_bytes if ram_bytes is not None else total_ram_bytes()
    if info.problem is None and info.memory_bytes and ram and info.memory_bytes > ram:
        info.problem = (
            f"{info.name} needs about {units.size(info.memory_bytes)} of memory to run on the CPU, more "
            f"than this computer's {units.size(ram)}. Choose a smaller model."
        )
    return info


def _describe(info: ModelInfo, header_alone: bool = True) -> None:
    """Fill in what the model is and whether Locas fits it (or ``problem``): from a GGUF header
    alone when it says all (`header_description`; ``header_alone=False``, for tests, never), else
    from the model's config and a skeleton of it on the meta device."""
    path = info.path
    info.size_bytes = folder_size(path)
    header = None
    try:
        if path.is_file() and is_gguf_file(path):
            from .gguf_config import gguf_file_type, gguf_header, header_description

            header = gguf_header(path)
            info.weights = gguf_file_type(header.metadata)
            described = header_description(header) if header_alone else None
            if described is not None:
                info.architecture, info.parameters = described
                info.memory_bytes = int(info.parameters * FP32_BYTES * RUN_OVERHEAD)
                info.method = "locas-glu"
                return
        config = _config(path, header)
    except Exception as exc:  # noqa: BLE001 - transformers raises many kinds for unknown models
        info.problem = (f"{info.name} cannot be read by this version of transformers ({exc}). "
                        "Choose a model of a supported architecture (LLaMA, Qwen, Gemma, ...).")
        return
    _describe_skeleton(info, config, header is None)


def _describe_skeleton(info: ModelInfo, config, weights_from_config: bool) -> None:
    """Describe the model from its transformers ``config``: a skeleton on the meta device, the
    engine's FFN finders on it."""
    import torch
    from transformers import AutoModelForCausalLM

    from locas_engine.backbone import Backbone
    from locas_engine.ffn import UnsupportedModelError

    info.architecture = getattr(config, "model_type", None)
    if weights_from_config:
        info.weights = str(getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
                           or "").replace("torch.", "") or None
    try:
        with torch.device("meta"):
            skeleton = AutoModelForCausalLM.from_config(config)
    except Exception as exc:  # noqa: BLE001
        info.problem = (f"{info.name} ({info.architecture}) is not a text-generating model Locas "
                        f"can run ({exc}).")
        return
    info.parameters = sum(p.numel() for p in skeleton.parameters())
    info.memory_bytes = int(info.parameters * FP32_BYTES * RUN_OVERHEAD)
    shell = Backbone(model=skeleton, tokenizer=None, name=info.name, source=str(info.path),
                     fingerprint="", device=torch.device("meta"), dtype=torch.float32)
    try:
        info.method = {"glu": "locas-glu", "mlp": "locas-mlp"}[shell.ffn_kind]
    except UnsupportedModelError as exc:
        info.problem = str(exc)
