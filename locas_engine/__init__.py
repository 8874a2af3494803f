"""Locas engine: Locas parametric memories for local language models (Locas-GLU for GLU
FFNs such as LLaMA / Qwen / SmolLM, Locas-MLP for two-layer MLP FFNs such as GPT-2 / OPT).

Load a backbone, attach / detach / merge memories, initialize them from the backbone's own
weights and activations, memorize a token stream, save and load memories, and answer. No Qt,
no database: usable from a script or a notebook. The public API is described in
docs/engine-api.md.
"""

import importlib
from typing import TYPE_CHECKING, Any

# Where each public name lives. Imported on first use (PEP 562), so that `import locas_engine.spec`
# or a command that needs no model never pays for torch and transformers (seconds at start-up).
_EXPORTS: dict[str, tuple[str, ...]] = {
    "backbone": ("Backbone", "backbone_from_model", "load_backbone"),
    "checkpoint": ("CheckpointError",),
    "ffn": ("UnsupportedModelError", "find_ffns"),
    "generate": ("stream_generate",),
    "init": ("initialize_memory",),
    "integrity": ("CorruptFileError",),
    "memorizer": ("Memorizer", "MemorizeResult", "Progress", "stream_signature"),
    "adapter": ("detach_memory", "only_enabled"),
    "memory": ("LocasMemory", "attach_memory"),
    "merge": ("export_merged", "merge_memory", "merged", "unmerge_memory"),
    "mlp.config": ("MLPMemoryConfig",),
    "mlp.memory": ("LocasMLPMemory", "attach_mlp_memory"),
    "mlp.write": ("write_tokens",),
    "protocol": ("Memory",),
    "routing": ("Route", "route_memories"),
    "spec": ("MemorySpec", "TrainingSpec", "parse_layers"),
    "store": (
        "MemoryMismatchError",
        "load_memory",
        "memory_file_problem",
        "read_memory_metadata",
        "save_memory",
    ),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'locas_engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_MODULE_OF])


if TYPE_CHECKING:  # for type checkers and editors: the same names, imported eagerly
    from .adapter import detach_memory, only_enabled
    from .backbone import Backbone, backbone_from_model, load_backbone
    from .checkpoint import CheckpointError
    from .ffn import UnsupportedModelError, find_ffns
    from .generate import stream_generate
    from .init import initialize_memory
    from .integrity import CorruptFileError
    from .memorizer import Memorizer, MemorizeResult, Progress, stream_signature
    from .memory import LocasMemory, attach_memory
    from .merge import export_merged, merge_memory, merged, unmerge_memory
    from .mlp.config import MLPMemoryConfig
    from .mlp.memory import LocasMLPMemory, attach_mlp_memory
    from .mlp.write import write_tokens
    from .protocol import Memory
    from .routing import Route, route_memories
    from .spec import MemorySpec, TrainingSpec, parse_layers
    from .store import (
        MemoryMismatchError,
        load_memory,
        memory_file_problem,
        read_memory_metadata,
        save_memory,
    )

__all__ = [
    "Backbone", "backbone_from_model", "load_backbone", "UnsupportedModelError", "find_ffns",
    "stream_generate", "initialize_memory", "MemorizeResult", "Memorizer",
    "Progress", "stream_signature", "LocasMemory", "MemorySpec", "TrainingSpec", "attach_memory", "detach_memory", "parse_layers",
    "only_enabled",
    "LocasMLPMemory", "MLPMemoryConfig", "attach_mlp_memory", "write_tokens",
    "export_merged", "merge_memory", "merged", "unmerge_memory", "Memory", "MemoryMismatchError", "load_memory",
    "read_memory_metadata", "save_memory", "Route", "route_memories",
    "CheckpointError", "CorruptFileError", "memory_file_problem",
]
