"""Fold a Locas-GLU memory into the backbone's FFNs in place, and take it out again.

A Locas-GLU memory has the FFN's own structure, so merging is lossless: append the r rows of G
to W_gate, of K to W_up and the r columns of ``tau * V`` to W_down. Layers without memory get r
zero slots (``act(0) * 0 = 0`` adds nothing), so every layer keeps one intermediate size
``m + r`` and the result is an ordinary model of the same architecture that any tool loads.
Unmerging slices the first m units back out: the original weights, bit for bit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .ffn import GLUFFN
from .widen import grow_in, grow_out, keep_in, keep_out, one_width, set_weight

if TYPE_CHECKING:
    from .backbone import Backbone
    from .memory import LocasMemory


@torch.no_grad()
def merge_glu(backbone: Backbone, memory: LocasMemory) -> None:
    """Widen every FFN of ``backbone`` by the memory's r slots (checked first, then changed)."""
    m, r = one_width(backbone.ffns), memory.rank
    slots: dict[int, tuple[torch.Tensor, torch.Tensor, torch.Tensor]] = {}
    for ffn in backbone.ffns:
        dt, dev, d = ffn.down_weight().dtype, ffn.device, ffn.hidden_size
        if ffn.index in memory.layers:
            mem = memory.layer(ffn.index)
            G, K, V = mem.G, mem.K, mem.V * mem.tau  # (r, d), (r, d), (d, r)
        else:
            G = K = torch.zeros(r, d, device=dev)
            V = torch.zeros(d, r, device=dev)
        G, K, V = (t.detach().to(dev, dt) for t in (G, K, V))
        if not all(bool(torch.isfinite(t).all()) for t in (G, K, V)):
            raise ValueError(f"Memory '{memory.name}' holds non-finite values; it cannot be merged.")
        slots[ffn.index] = (G, K, V)
    for ffn in backbone.ffns:
        _grow_layer(ffn, m, *slots[ffn.index])
    backbone.model.config.intermediate_size = m + r


@torch.no_grad()
def unmerge_glu(backbone: Backbone, memory: LocasMemory) -> None:
    """Narrow every FFN back to its width before :func:`merge_glu`."""
    m, r = one_width(backbone.ffns) - memory.rank, memory.rank
    for ffn in backbone.ffns:
        mod = ffn.module
        if ffn.fused:
            w, b = mod.gate_up_proj.weight, mod.gate_up_proj.bias
            keep = torch.cat([torch.arange(m), torch.arange(m + r, 2 * m + r)]).to(w.device)
            set_weight(mod.gate_up_proj, w[keep], b[keep] if b is not None else None)
        else:
            keep_out(mod.gate_proj, m)
            keep_out(mod.up_proj, m)
        keep_in(mod.down_proj, m)
    backbone.model.config.intermediate_size = m


def _grow_layer(ffn: GLUFFN, m: int, G: torch.Tensor, K: torch.Tensor, V: torch.Tensor) -> None:
    """Widen one FFN by r slots: G, K (r, d) and tau*V (d, r) in the FFN's dtype."""
    mod = ffn.module
    if ffn.fused:  # Phi-3: rows are [gate; up], so the new rows go after each half
        w, b = mod.gate_up_proj.weight, mod.gate_up_proj.bias
        weight = torch.cat([w[:m], G, w[m:], K])  # (2(m + r), d)
        bias = None
        if b is not None:
            zeros = b.new_zeros(G.shape[0])
            bias = torch.cat([b[:m], zeros, b[m:], zeros])
        set_weight(mod.gate_up_proj, weight, bias)
    else:
        grow_out(mod.gate_proj, G)
        grow_out(mod.up_proj, K)
    grow_in(mod.down_proj, V)
