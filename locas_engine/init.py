"""Initializers for a Locas-GLU memory, computed once on the first chunk of text.

Activation-guided cloning (docs/locas-method.md): run the frozen backbone over the chunk,
measure each FFN unit's importance ``alpha_j = mean_t |act(W_gate a_t)_j * (W_up a_t)_j|``, pick
r units S, and copy their (row-normalized) gate and up rows into G and K. V stays 0, so the
model's output is unchanged until training writes values. ``topk`` (the paper's default) picks
the most active units; ``bottomk`` and ``random`` pick the least active / random units; and
``gaussian`` ignores the backbone and uses random unit rows (the paper's weakest ablation).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .backbone import Backbone
from .spec import INITIALIZERS

if TYPE_CHECKING:
    from .memory import LocasMemory



@torch.no_grad()
def unit_importance(backbone: Backbone, input_ids: torch.Tensor,
                    layers: list[int]) -> dict[int, torch.Tensor]:
    """``alpha_j = mean_t |M_t,j|`` per chosen layer, shape (m,) each, in fp32.

    Computed inside forward pre-hooks so no layer's activations are kept around.
    """
    ffns = {f.index: f for f in backbone.ffns}
    alphas: dict[int, torch.Tensor] = {}
    handles = []

    def make_hook(index: int):
        ffn = ffns[index]

        def hook(module, args, kwargs):
            a = args[0] if args else next(iter(kwargs.values()))  # (B, T, d)
            m = ffn.intermediate(a).float().abs()  # (B, T, m)
            alphas[index] = m.reshape(-1, m.shape[-1]).mean(dim=0)  # (m,)

        return hook

    for i in layers:
        handles.append(ffns[i].module.register_forward_pre_hook(make_hook(i), with_kwargs=True))
    try:
        ids = input_ids.reshape(1, -1).to(backbone.device)  # (1, T)
        backbone.model(input_ids=ids, use_cache=False, logits_to_keep=1)
    finally:
        for h in handles:
            h.remove()
    return alphas


def _select(alpha: torch.Tensor, rank: int, method: str, gen: torch.Generator) -> torch.Tensor:
    """Indices S of the r units to clone, shape (r,)."""
    if method == "topk":
        return alpha.topk(rank).indices
    if method == "bottomk":
        return (-alpha).topk(rank).indices
    if method == "random":
        return torch.randperm(alpha.numel(), generator=gen)[:rank].to(alpha.device)
    raise ValueError(f"no unit selection for initializer '{method}'")


@torch.no_grad()
def initialize_memory(backbone: Backbone, memory: LocasMemory, input_ids: torch.Tensor,
                      method: str | None = None) -> None:
    """Set G, K (and V = 0) of every layer of ``memory`` from the first chunk ``input_ids``."""
    method = method or memory.config.init
    if method not in INITIALIZERS:
        raise ValueError(f"Unknown initializer '{method}'; choose one of {', '.join(INITIALIZERS)}.")
    ffns = {f.index: f for f in backbone.ffns}
    rank = memory.rank
    too_wide = [i for i in memory.layers if ffns[i].intermediate_size < rank]
    if too_wide and method != "gaussian":
        raise ValueError(
            f"Memory width {rank} is larger than the model's FFN width "
            f"{ffns[too_wide[0]].intermediate_size}; choose a smaller rank."
        )
    gen = torch.Generator().manual_seed(memory.config.seed)
    alphas = {} if method == "gaussian" else unit_importance(backbone, input_ids, memory.layers)
    for i in memory.layers:
        mem = memory.layer(i)
        if method == "gaussian":
            g = torch.randn(mem.G.shape, generator=gen)  # (r, d)
            k = torch.randn(mem.K.shape, generator=gen)  # (r, d)
        else:
            S = _select(alphas[i], rank, method, gen)  # (r,)
            g = ffns[i].gate_weight()[S.to(ffns[i].device)]  # (r, d)
            k = ffns[i].up_weight()[S.to(ffns[i].device)]  # (r, d)
        mem.G.copy_(F.normalize(g.float(), dim=1))
        mem.K.copy_(F.normalize(k.float(), dim=1))
        mem.V.zero_()
    memory.initialized = True
    if memory.config.init != method:  # the spec records how the memory really started
        memory.config = replace(memory.config, init=method)
