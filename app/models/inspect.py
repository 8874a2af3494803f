"""What a model on disk is, without loading its weights: size, architecture, parameter count,
whether Locas-GLU or Locas-MLP fits it, and the memory it needs to run.

The configuration comes from config.json (a Hugging Face folder) or from the GGUF header (read by
transformers through the `gguf` package). The fit check builds the model's skeleton on PyTorch's
"meta" device (shapes only, no memory) and asks the engine's own FFN finders through
`Backbone.ffn_kind`, so the app and the engine can never disagree about which models fit.
"""

from __future__ import annotations

import dataclasses
import os
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


def _gguf_weights(path: Path) -> str | None:
    """The GGUF file type (Q4_K_M, Q8_0, F16...) from the header."""
    try:
        from gguf import GGUFReader, LlamaFileType

        field = GGUFReader(path).get_field("general.file_type")
        if field is None:
            return None
        return LlamaFileType(int(field.contents())).name.removeprefix("MOSTLY_")
    except Exception:  # noqa: BLE001 - a label only; the config read below decides usability
        return None


def _config(path: Path):
    from transformers import AutoConfig

    if path.is_dir():
        return AutoConfig.from_pretrained(str(path), local_files_only=True)
    return AutoConfig.from_pretrained(str(path.parent), gguf_file=path.name, local_files_only=True)


_described: dict[tuple, ModelInfo] = {}  # (path, size, mtime, ram) -> info: a list is re-read often


def inspect_model(path: str | os.PathLike, source: str = "chosen by hand", name: str | None = None,
                  setting: str | None = None, ram_bytes: int | None = None) -> ModelInfo:
    """Describe the model at ``path`` (never loads weights, never downloads). ``ram_bytes``
    overrides this computer's memory for the memory check (tests). Remembered per file state
    for the life of the process, since reading a config and building a skeleton takes seconds."""
    p = Path(path).expanduser()
    try:
        st = (p / "config.json").stat() if p.is_dir() else p.stat()
        key = (str(p.resolve()), st.st_size, st.st_mtime_ns, ram_bytes)
    except OSError:
        key = None
    if key in _described:
        found = _described[key]
        return dataclasses.replace(found, name=name or p.name, source=source,
                                   setting=setting or str(p), path=p)
    info = _inspect(p, source, name, setting, ram_bytes)
    if key is not None:
        _described[key] = info
    return info


def _inspect(path: Path, source: str, name: str | None, setting: str | None,
             ram_bytes: int | None) -> ModelInfo:
    import torch
    from transformers import AutoModelForCausalLM

    from locas_engine.backbone import Backbone
    from locas_engine.ffn import UnsupportedModelError

    info = ModelInfo(name=name or path.name, source=source, path=path,
                     setting=setting or str(path))
    info.problem = model_problem(str(path))
    if info.problem:
        return info
    info.size_bytes = folder_size(path)
    is_gguf = path.is_file() and is_gguf_file(path)
    try:
        config = _config(path)
    except Exception as exc:  # noqa: BLE001 - transformers raises many kinds for unknown models
        info.problem = (f"{info.name} cannot be read by this version of transformers ({exc}). "
                        "Choose a model of a supported architecture (LLaMA, Qwen, Gemma, ...).")
        return info
    info.architecture = getattr(config, "model_type", None)
    info.weights = _gguf_weights(path) if is_gguf else str(
        getattr(config, "dtype", None) or getattr(config, "torch_dtype", None) or "").replace(
        "torch.", "") or None
    try:
        with torch.device("meta"):
            skeleton = AutoModelForCausalLM.from_config(config)
    except Exception as exc:  # noqa: BLE001
        info.problem = (f"{info.name} ({info.architecture}) is not a text-generating model Locas "
                        f"can run ({exc}).")
        return info
    info.parameters = sum(p.numel() for p in skeleton.parameters())
    info.memory_bytes = int(info.parameters * FP32_BYTES * RUN_OVERHEAD)
    shell = Backbone(model=skeleton, tokenizer=None, name=info.name, source=str(path),
                     fingerprint="", device=torch.device("meta"), dtype=torch.float32)
    try:
        info.method = {"glu": "locas-glu", "mlp": "locas-mlp"}[shell.ffn_kind]
    except UnsupportedModelError as exc:
        info.problem = str(exc)
        return info
    ram = ram_bytes if ram_bytes is not None else total_ram_bytes()
    if ram and info.memory_bytes > ram:
        info.problem = (
            f"{info.name} needs about {units.size(info.memory_bytes)} of memory to run on the CPU, more "
            f"than this computer's {units.size(ram)}. Choose a smaller model."
        )
    return info
