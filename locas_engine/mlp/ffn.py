"""Find the classic two-layer MLP feed-forward blocks of a causal LM (GPT-2 style).

Locas-MLP needs, per decoder layer, the up projection (its input is the FFN input ``a``, the
memory's key space), the down projection (its output is the FFN's hidden output, where the
memory adds its own output and where the write rule reads gradients), and the activation in
between (the memory realizes its ReLU through it, so merged slots behave exactly like attached
ones). Architectures differ in names, in where the two layers live and in weight layout:

=================  ===================================  ==========================  ==========
family             up / down                            owner                       layout
=================  ===================================  ==========================  ==========
GPT-2              ``c_fc`` / ``c_proj``                ``mlp``                     Conv1D
GPT-Neo            ``c_fc`` / ``c_proj``                ``mlp``                     Linear
OPT                ``fc1`` / ``fc2``                    the decoder layer itself    Linear
GPT-NeoX, Pythia   ``dense_h_to_4h`` / ``dense_4h_to_h``  ``mlp``                   Linear
BLOOM              ``dense_h_to_4h`` / ``dense_4h_to_h``  ``mlp``                   Linear
GPT-J              ``fc_in`` / ``fc_out``               ``mlp``                     Linear
=================  ===================================  ==========================  ==========

GPT-2's ``Conv1D`` stores its weight transposed, ``(in, out)``, and computes ``x @ W + b``; the
accessor below always hands out ``(out, in)`` views so the rest of the engine sees one layout.
Adapters wrap the two projections, not the FFN module, because OPT has no FFN module: its
``fc1``/``fc2`` sit directly on the decoder layer between a layer norm and a residual add.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ..adapter import base_of
from ..ffn import UnsupportedModelError
from ..widen import is_conv1d

# (up, down) attribute names, tried in order on every module of the model.
MLP_PROJECTIONS: tuple[tuple[str, str], ...] = (
    ("c_fc", "c_proj"),  # GPT-2 (Conv1D), GPT-Neo (Linear)
    ("fc1", "fc2"),  # OPT (on the decoder layer)
    ("dense_h_to_4h", "dense_4h_to_h"),  # GPT-NeoX / Pythia, BLOOM
    ("fc_in", "fc_out"),  # GPT-J
)
_ACTIVATION_ATTRS = ("act", "activation_fn", "act_fn", "gelu_impl")

# Config attribute holding the FFN width, per model_type: merging widens the FFN and must say
# so in the config, or from_pretrained would build the old width. BLOOM is absent on purpose:
# its width is fixed at 4 * hidden_size in code, so a widened BLOOM cannot be loaded back.
WIDTH_CONFIG_KEYS = {
    "gpt2": "n_inner", "gptj": "n_inner", "gpt_neo": "intermediate_size",
    "opt": "ffn_dim", "gpt_neox": "intermediate_size",
}


def _is_projection(module: object) -> bool:
    return isinstance(module, nn.Linear) or is_conv1d(module)


@dataclass
class MLPFFN:
    """One decoder layer's two-layer MLP FFN: ``down(act(up a))``."""

    index: int  # position among the model's FFNs (= decoder layer index)
    name: str  # path of the module that owns up/down, e.g. "transformer.h.3.mlp"
    owner: nn.Module  # holds the two projections (the decoder layer itself for OPT)
    up_attr: str
    down_attr: str
    act: Callable[[torch.Tensor], torch.Tensor]

    @property
    def up(self) -> nn.Module:
        """The up projection itself (behind the adapter while a memory is attached)."""
        return base_of(getattr(self.owner, self.up_attr))

    @property
    def down(self) -> nn.Module:
        """The down projection itself (behind the adapter while a memory is attached)."""
        return base_of(getattr(self.owner, self.down_attr))

    @property
    def conv1d(self) -> bool:
        return is_conv1d(self.up)

    def up_weight(self) -> torch.Tensor:
        """W_up, shape (m, d); a view, never a copy (transposed for Conv1D)."""
        return self.up.weight.T if self.conv1d else self.up.weight

    def down_weight(self) -> torch.Tensor:
        """W_down, shape (d, m); a view, never a copy (transposed for Conv1D)."""
        return self.down.weight.T if self.conv1d else self.down.weight

    @property
    def intermediate_size(self) -> int:
        return self.down_weight().shape[1]

    @property
    def hidden_size(self) -> int:
        return self.down_weight().shape[0]

    @property
    def device(self) -> torch.device:
        return self.down.weight.device

    def forward(self, a: torch.Tensor) -> torch.Tensor:
        """The backbone FFN's output ``down(act(up a))`` for input a: (..., d) -> (..., d)."""
        return self.down(self.act(self.up(a)))


def _activation(owner: nn.Module) -> Callable[[torch.Tensor], torch.Tensor] | None:
    for attr in _ACTIVATION_ATTRS:
        fn = getattr(owner, attr, None)
        if callable(fn):
            return fn
    return None


def find_mlp_ffns(model: nn.Module) -> list[MLPFFN]:
    """All two-layer MLP FFNs of ``model`` in layer order; UnsupportedModelError if none.

    A module counts as one when it has an (up, down) pair of Linear / Conv1D children from
    ``MLP_PROJECTIONS`` and an activation attribute. BLOOM's tensor-parallel "slow but exact"
    mode bypasses ``dense_4h_to_h``'s forward, so the memory's adapter would never run: refused.
    """
    found: list[MLPFFN] = []
    for name, module in model.named_modules():
        for up_attr, down_attr in MLP_PROJECTIONS:
            up, down = getattr(module, up_attr, None), getattr(module, down_attr, None)
            act = _activation(module)
            if _is_projection(up) and _is_projection(down) and act is not None:
                found.append(MLPFFN(index=len(found), name=name, owner=module,
                                    up_attr=up_attr, down_attr=down_attr, act=act))
                break
    if not found:
        kind = getattr(getattr(model, "config", None), "model_type", type(model).__name__)
        raise UnsupportedModelError(
            f"This model ({kind}) has no two-layer MLP feed-forward blocks (c_fc/c_proj, "
            f"fc1/fc2, dense_h_to_4h/dense_4h_to_h or fc_in/fc_out), which Locas-MLP needs."
        )
    config = getattr(model, "config", None)
    if getattr(config, "pretraining_tp", 1) > 1 and getattr(config, "slow_but_exact", False):
        raise UnsupportedModelError(
            "This BLOOM model runs its feed-forward blocks in 'slow_but_exact' tensor-parallel "
            "mode, which bypasses the layers Locas-MLP wraps; load it with slow_but_exact=False."
        )
    return found
