"""Permanentize a memory: fold its slots into the backbone's FFNs as extra intermediate units.

A Locas-GLU memory has the FFN's own structure, so merging is lossless: append the r rows of G
to W_gate, of K to W_up and the r columns of ``tau * V`` to W_down. Layers without memory get r
zero slots (``act(0) * 0 = 0`` adds nothing), so every layer keeps one intermediate size
``m + r`` and the result is an ordinary model of the same architecture that any tool loads.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path

import torch
from torch import nn

from .backbone import Backbone
from .ffn import GLUFFN, find_ffns
from .memory import LocasMemory
from .mlp_memory import LocasMLPMemory, merge_mlp_memory


def _strip_locas_hooks(model: nn.Module) -> None:
    """Remove every attached memory's hooks (forward and, for Locas-MLP, pre-forward) from a
    (copied) model."""
    for module in model.modules():
        keys = [k for k, fn in module._forward_hooks.items() if getattr(fn, "_locas_hook", False)]
        for key in keys:  # the flag dicts are keyed by the same hook id
            module._forward_hooks.pop(key, None)
            getattr(module, "_forward_hooks_with_kwargs", {}).pop(key, None)
            getattr(module, "_forward_hooks_always_called", {}).pop(key, None)
        pre = [k for k, fn in module._forward_pre_hooks.items() if getattr(fn, "_locas_hook", False)]
        for key in pre:
            module._forward_pre_hooks.pop(key, None)
            getattr(module, "_forward_pre_hooks_with_kwargs", {}).pop(key, None)


def _linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    out_f, in_f = weight.shape
    lin = nn.Linear(in_f, out_f, bias=bias is not None, device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        lin.weight.copy_(weight)
        if bias is not None:
            lin.bias.copy_(bias)
    lin.requires_grad_(False)
    return lin


def _extend_bias(lin: nn.Linear, extra: int) -> torch.Tensor | None:
    if lin.bias is None:
        return None
    return torch.cat([lin.bias, lin.bias.new_zeros(extra)])  # (m + r,)


@torch.no_grad()
def _merge_layer(ffn: GLUFFN, G: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> None:
    """Widen one FFN in place by r slots: G, K (r, d) and tau*V (d, r) in the FFN's dtype."""
    r = G.shape[0]
    mod = ffn.module
    if ffn.fused:  # Phi-3: rows are [gate; up], so the new rows go after each half
        w = torch.cat([ffn.gate_weight(), G, ffn.up_weight(), K])  # (2(m + r), d)
        b = None
        if mod.gate_up_proj.bias is not None:
            gb, ub = mod.gate_up_proj.bias.chunk(2)
            b = torch.cat([gb, gb.new_zeros(r), ub, ub.new_zeros(r)])
        mod.gate_up_proj = _linear(w, b)
    else:
        mod.gate_proj = _linear(torch.cat([ffn.gate_weight(), G]), _extend_bias(mod.gate_proj, r))
        mod.up_proj = _linear(torch.cat([ffn.up_weight(), K]), _extend_bias(mod.up_proj, r))
    down = mod.down_proj
    mod.down_proj = _linear(torch.cat([down.weight, V], dim=1), down.bias)  # (d, m + r)
    if hasattr(mod, "intermediate_size"):
        mod.intermediate_size = mod.intermediate_size + r


@torch.no_grad()
def merge_memory(backbone: Backbone, memory: LocasMemory | LocasMLPMemory) -> nn.Module:
    """A new model (the backbone is left as it is) with ``memory`` folded into its FFNs.

    Other memories attached to the backbone are not part of the result. A Locas-MLP memory is
    merged by :func:`locas_engine.mlp_memory.merge_mlp_memory`.
    """
    if isinstance(memory, LocasMLPMemory):
        return merge_mlp_memory(backbone, memory)
    assert memory.hidden_size == backbone.hidden_size, "memory does not fit this backbone"
    sizes = {f.intermediate_size for f in backbone.ffns}
    if len(sizes) != 1:
        raise ValueError("This model's layers have different FFN widths; merging needs one width.")
    model = copy.deepcopy(backbone.model)
    _strip_locas_hooks(model)
    r = memory.rank
    for ffn in find_ffns(model):
        dt, dev, d = ffn.down_weight().dtype, ffn.device, ffn.hidden_size
        if ffn.index in memory.layers:
            m = memory.layer(ffn.index)
            G, K, V = m.G, m.K, m.V * m.tau  # (r, d), (r, d), (d, r)
        else:
            G = K = torch.zeros(r, d)
            V = torch.zeros(d, r)
        G, K, V = (t.detach().to(dev, dt) for t in (G, K, V))
        if not all(torch.isfinite(t).all() for t in (G, K, V)):
            raise ValueError(f"Memory '{memory.name}' holds non-finite values; it cannot be merged.")
        _merge_layer(ffn, G, K, V)
    model.config.intermediate_size = sizes.pop() + r
    model.eval()
    return model


def export_merged(backbone: Backbone, memory: LocasMemory | LocasMLPMemory, folder: str | os.PathLike) -> Path:
    """Write the merged model as a Hugging Face folder (config, safetensors, tokenizer) that
    plain ``AutoModelForCausalLM.from_pretrained(folder)`` loads."""
    folder = Path(folder).expanduser()
    folder.mkdir(parents=True, exist_ok=True)
    merged = merge_memory(backbone, memory)
    merged.save_pretrained(folder, safe_serialization=True)
    if backbone.tokenizer is not None:
        backbone.tokenizer.save_pretrained(folder)
    info = {
        "merged_from": {"backbone": backbone.name, "fingerprint": backbone.fingerprint,
                        "memory": memory.name, "method": getattr(memory, "method", "locas-glu"),
                        "rank": memory.rank, "layers": memory.layers,
                        "sources": memory.sources},
    }
    (folder / "locas-merge.json").write_text(json.dumps(info, indent=1, sort_keys=True))
    return folder
