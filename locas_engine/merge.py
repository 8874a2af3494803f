"""Permanentize a memory: fold it into the backbone's own weights, in place, and back out.

Each method knows how its slots become ordinary FFN units (Locas-GLU: glu_merge.py, Locas-MLP:
mlp/merge.py); this module only orders the steps for any memory. Merging is in place, never on a
copy of the model: a copy would double the memory a large model needs. While merged, the
memory's branches add nothing (its output is in the weights); :func:`unmerge_memory` slices the
original units back out, bit for bit, and switches the branches back on.

:func:`export_merged` merges, saves the model with the architecture's own module names (the
adapters are set aside for the save) and unmerges: the backbone ends exactly as it started.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from torch import nn

from .adapter import plain_modules
from .backbone import Backbone
from .protocol import Memory


def merge_memory(backbone: Backbone, memory: Memory) -> nn.Module:
    """Fold ``memory`` into the backbone's FFNs in place; returns the backbone's model.

    Only one memory may be merged at a time; the others stay attached and keep working.
    """
    if backbone.memories.get(memory.name) is not memory:
        raise ValueError(f"Memory '{memory.name}' is not attached to this model.")
    already = [m.name for m in backbone.memories.values() if m.merged]
    if already:
        raise ValueError(f"Memory '{already[0]}' is merged already; unmerge it first.")
    memory.merge_into(backbone)  # checks everything before it changes anything
    memory.merged = True
    return backbone.model


def unmerge_memory(backbone: Backbone, memory: Memory) -> None:
    """Take a merged memory back out of the weights; it is attached as before."""
    if not memory.merged:
        raise ValueError(f"Memory '{memory.name}' is not merged.")
    memory.unmerge_from(backbone)
    memory.merged = False


@contextlib.contextmanager
def merged(backbone: Backbone, memory: Memory) -> Iterator[nn.Module]:
    """The backbone's model with ``memory`` merged for a while, unmerged afterwards."""
    model = merge_memory(backbone, memory)
    try:
        yield model
    finally:
        unmerge_memory(backbone, memory)


def export_merged(backbone: Backbone, memory: Memory, folder: str | os.PathLike) -> Path:
    """Write the merged model as a Hugging Face folder (config, safetensors, tokenizer) that
    plain ``AutoModelForCausalLM.from_pretrained(folder)`` loads. The backbone is merged in
    place for the save and unmerged afterwards (no copy of the model is made)."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    # transformers keeps a GGUF's general.name ("Smollm2 135M 8k Lc100K Mix1 Ep2") as
    # config._model_name_or_path, which names neither this folder nor what it holds: it is left
    # out of config.json (from_pretrained fills the name in from the folder); locas-merge.json
    # says what the model was merged from.
    leftover = backbone.model.config.__dict__.pop("_model_name_or_path", None)
    try:
        with merged(backbone, memory) as model, plain_modules(model):
            model.save_pretrained(folder, safe_serialization=True)
    finally:
        if leftover is not None:
            backbone.model.config._model_name_or_path = leftover
    if backbone.tokenizer is not None:
        backbone.tokenizer.save_pretrained(folder)
    info = {
        "merged_from": {"backbone": backbone.name, "fingerprint": backbone.fingerprint,
                        "memory": memory.name, "method": memory.method, **memory.sizes(),
                        "layers": memory.layers, "sources": memory.sources},
    }
    (folder / "locas-merge.json").write_text(json.dumps(info, indent=1, sort_keys=True))
    return folder
