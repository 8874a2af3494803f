"""Fold a Locas-MLP memory's written slots into the backbone's FFNs in place, and back out.

Each slot becomes an ordinary FFN unit: up row ``s K``, up bias ``s b``, down column ``V / s``
(s = ``sharpness``, the ReLU realized as ``act(s x) / s``). Every layer grows by the same width
w (the most slots any layer holds; the others get zero units, which add ``act(0) = 0``) because
these architectures have one FFN width, written to the config key the architecture reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..widen import grow_in, grow_out, keep_in, keep_out, one_width
from .ffn import WIDTH_CONFIG_KEYS

if TYPE_CHECKING:
    from ..backbone import Backbone
    from .memory import LocasMLPMemory


def _width_key(backbone: Backbone) -> str:
    model_type = getattr(backbone.model.config, "model_type", "")
    key = WIDTH_CONFIG_KEYS.get(model_type)
    if key is None:
        raise ValueError(
            f"A {model_type or 'model of this kind'} cannot be saved with a wider FFN (its "
            "width is fixed in code, not in its config); keep the memory attached instead."
        )
    return key


@torch.no_grad()
def merge_mlp(backbone: Backbone, memory: LocasMLPMemory, w: int) -> None:
    """Append the first ``w`` slots of ``memory`` to every FFN (checked first, then changed)."""
    key, m = _width_key(backbone), one_width(backbone.mlp_ffns)
    s = memory.config.sharpness
    units = {}
    for ffn in backbone.mlp_ffns:
        dt, dev, d = ffn.down.weight.dtype, ffn.device, ffn.hidden_size
        if ffn.index in memory.layers:
            mem = memory.layer(ffn.index)
            K, b, V = mem.K[:w] * s, mem.b[:w] * s, mem.V[:, :w] / s  # (w, d), (w,), (d, w)
        else:
            K, b, V = torch.zeros(w, d, device=dev), torch.zeros(w, device=dev), torch.zeros(d, w, device=dev)
        K, b, V = (t.detach().to(dev, dt) for t in (K, b, V))
        if not all(bool(torch.isfinite(t).all()) for t in (K, b, V)):
            raise ValueError(f"Memory '{memory.name}' holds non-finite values; it cannot be merged.")
        if ffn.up.bias is None and bool(b.ne(0).any()):
            raise ValueError(
                "This model's up projections have no bias, which the memory's slot thresholds "
                "need; merge a memory made with support=0, or keep this one attached."
            )
        units[ffn.index] = (K, b, V)
    for ffn in backbone.mlp_ffns:
        K, b, V = units[ffn.index]
        grow_out(ffn.up, K, b)
        grow_in(ffn.down, V)
    setattr(backbone.model.config, key, m + w)


@torch.no_grad()
def unmerge_mlp(backbone: Backbone, w: int) -> None:
    """Narrow every FFN by the ``w`` units :func:`merge_mlp` appended."""
    m = one_width(backbone.mlp_ffns) - w
    for ffn in backbone.mlp_ffns:
        keep_out(ffn.up, m)
        keep_in(ffn.down, m)
    setattr(backbone.model.config, _width_key(backbone), m)
