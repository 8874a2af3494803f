"""Find the GLU feed-forward blocks of a causal LM and give uniform access to their weights.

Locas-GLU needs, per decoder layer, the FFN module (to wrap in an adapter), its gate / up / down weights (to
initialize, to compute tau, to merge) and its activation (the memory reuses it, so a merged slot
behaves exactly like an attached one). Architectures differ only in attribute names and in
Phi-3's fused ``gate_up_proj`` (gate rows first, then up rows), so one small accessor class
hides that difference from the rest of the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn


class UnsupportedModelError(ValueError):
    """The model has no GLU feed-forward blocks, so a Locas-GLU memory cannot be attached."""


@dataclass
class GLUFFN:
    """One decoder layer's GLU FFN: ``down(act(gate a) * up a)``.

    ``fused`` is True for Phi-3 style ``gate_up_proj`` whose first half of output rows is the
    gate and the second half the up projection.
    """

    index: int  # position among the model's FFNs (= decoder layer index)
    name: str  # module path inside the model, e.g. "model.layers.3.mlp"
    module: nn.Module
    act: Callable[[torch.Tensor], torch.Tensor]
    fused: bool

    @property
    def down_linear(self) -> nn.Linear:
        return self.module.down_proj

    @property
    def intermediate_size(self) -> int:
        return self.down_linear.weight.shape[1]

    @property
    def hidden_size(self) -> int:
        return self.down_linear.weight.shape[0]

    @property
    def device(self) -> torch.device:
        return self.down_linear.weight.device

    def gate_weight(self) -> torch.Tensor:
        """W_gate, shape (m, d); a view, never a copy."""
        if self.fused:
            return self.module.gate_up_proj.weight[: self.intermediate_size]
        return self.module.gate_proj.weight

    def up_weight(self) -> torch.Tensor:
        """W_up, shape (m, d); a view, never a copy."""
        if self.fused:
            return self.module.gate_up_proj.weight[self.intermediate_size :]
        return self.module.up_proj.weight

    def down_weight(self) -> torch.Tensor:
        """W_down, shape (d, m)."""
        return self.down_linear.weight

    def intermediate(self, a: torch.Tensor) -> torch.Tensor:
        """The GLU intermediate ``act(W_gate a) * W_up a`` of the backbone, shape (..., m)."""
        if self.fused:
            gate, up = self.module.gate_up_proj(a).chunk(2, dim=-1)  # (..., m) each
        else:
            gate, up = self.module.gate_proj(a), self.module.up_proj(a)  # (..., m) each
        return self.act(gate) * up


def _activation(module: nn.Module) -> Callable[[torch.Tensor], torch.Tensor] | None:
    for attr in ("act_fn", "activation_fn", "act"):
        fn = getattr(module, attr, None)
        if callable(fn):
            return fn
    return None


def _is_linear(module: object) -> bool:
    return isinstance(module, nn.Linear)


def find_ffns(model: nn.Module) -> list[GLUFFN]:
    """All GLU FFNs of ``model`` in layer order; raises UnsupportedModelError if there are none.

    A module counts as a GLU FFN when it has linear ``gate_proj``, ``up_proj`` and ``down_proj``
    children (LLaMA, SmolLM, Mistral, Qwen2/3, Gemma 1/2/3) or ``gate_up_proj`` and
    ``down_proj`` (Phi-3), plus an activation attribute.
    """
    found: list[tuple[str, nn.Module, bool]] = []
    for name, module in model.named_modules():
        split = all(_is_linear(getattr(module, a, None)) for a in ("gate_proj", "up_proj", "down_proj"))
        fused = _is_linear(getattr(module, "gate_up_proj", None)) and _is_linear(
            getattr(module, "down_proj", None)
        )
        if (split or fused) and _activation(module) is not None:
            found.append((name, module, fused and not split))
    if not found:
        raise UnsupportedModelError(_describe_non_glu(model))
    ffns = []
    for i, (name, module, fused) in enumerate(found):
        ffns.append(GLUFFN(index=i, name=name, module=module, act=_activation(module), fused=fused))
    return ffns


def _describe_non_glu(model: nn.Module) -> str:
    """A sentence naming the feed-forward blocks that were found instead of a GLU."""
    kind = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
    for name, module in model.named_modules():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("mlp", "feed_forward", "ffn", "fc"):
            children = ", ".join(n for n, _ in module.named_children()) or "no sub-layers"
            return (
                f"This model ({kind}) has no gated (GLU) feed-forward blocks, which Locas-GLU "
                f"needs: its feed-forward block '{name}' is a {type(module).__name__} with "
                f"{children}. Use a LLaMA, SmolLM, Mistral, Qwen, Gemma or Phi-3 model."
            )
    return (
        f"This model ({kind}) has no gated (GLU) feed-forward blocks with gate/up/down "
        f"projections, which Locas-GLU needs. Use a LLaMA, SmolLM, Mistral, Qwen, Gemma or "
        f"Phi-3 model."
    )
