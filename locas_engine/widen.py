"""Widen and narrow a projection in place: how a merged memory becomes (and stops being) FFN units.

Works on ``nn.Linear`` (weight ``(out, in)``) and GPT-2's ``Conv1D`` (weight ``(in, out)``);
callers always pass and get ``(out, in)`` shapes. The module object stays the same (only its
parameters are replaced), so anything that refers to it, accelerate's device hooks included,
keeps working. Narrowing slices the original units back out of the wider tensors, so merge then
unmerge gives the original weights bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


def one_width(ffns: Sequence[Any]) -> int:
    """The FFN width all ``ffns`` share; merging appends the same units to every layer."""
    sizes = {f.intermediate_size for f in ffns}
    if len(sizes) != 1:
        raise ValueError("This model's layers have different FFN widths; merging needs one width.")
    return sizes.pop()


def is_conv1d(module: object) -> bool:
    """GPT-2's ``transformers.pytorch_utils.Conv1D`` (matched by name: no import needed)."""
    return type(module).__name__ == "Conv1D" and hasattr(module, "nf")


def weight_of(proj: nn.Module) -> torch.Tensor:
    """The projection's weight as an ``(out, in)`` view (transposed for Conv1D)."""
    return proj.weight.T if is_conv1d(proj) else proj.weight


def set_weight(proj: nn.Module, weight: torch.Tensor, bias: torch.Tensor | None = None) -> None:
    """Replace the projection's ``(out, in)`` weight (and bias, when given) by new tensors."""
    conv = is_conv1d(proj)
    stored = weight.T.contiguous() if conv else weight.contiguous()
    proj.weight = nn.Parameter(stored, requires_grad=False)
    if bias is not None:
        proj.bias = nn.Parameter(bias.contiguous(), requires_grad=False)
    if conv:
        proj.nf = weight.shape[0]
    else:
        proj.out_features, proj.in_features = weight.shape


@torch.no_grad()
def grow_out(proj: nn.Module, rows: torch.Tensor, bias: torch.Tensor | None = None) -> None:
    """Append output units: rows ``(w, in)`` and their bias ``(w,)`` (None: zero)."""
    new_bias = None
    if proj.bias is not None:
        extra = bias if bias is not None else rows.new_zeros(rows.shape[0])
        new_bias = torch.cat([proj.bias, extra.to(proj.bias)])  # (out + w,)
    elif bias is not None and bool(bias.ne(0).any()):
        raise ValueError(
            "This model's up projections have no bias, which the memory's slot thresholds "
            "need; merge a memory made with support=0, or keep this one attached."
        )
    set_weight(proj, torch.cat([weight_of(proj), rows.to(proj.weight)]), new_bias)


@torch.no_grad()
def grow_in(proj: nn.Module, cols: torch.Tensor) -> None:
    """Append input units: columns ``(out, w)``; the bias is unchanged."""
    set_weight(proj, torch.cat([weight_of(proj), cols.to(proj.weight)], dim=1))


@torch.no_grad()
def keep_out(proj: nn.Module, n: int) -> None:
    """Keep only the first ``n`` output units (undoes :func:`grow_out`)."""
    bias = proj.bias[:n].clone() if proj.bias is not None else None
    set_weight(proj, weight_of(proj)[:n].clone(), bias)


@torch.no_grad()
def keep_in(proj: nn.Module, n: int) -> None:
    """Keep only the first ``n`` input units (undoes :func:`grow_in`)."""
    set_weight(proj, weight_of(proj)[:, :n].clone())
