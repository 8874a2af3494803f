"""The Locas-GLU memory: a small side FFN of width r beside every chosen layer's FFN.

Per layer i: ``Mem(a) = V (act(G a) * K a)`` with ``G, K: (r, d)`` and ``V: (d, r)``, and the
layer's output becomes ``FFN(a) + tau * Mem(a)`` (see docs/locas-method.md).

The memory is injected peft-style (adapter.py): a wrapper takes the place of each chosen FFN
module, runs it and adds the memory's branch. Several memories share one wrapper (their outputs
add); detaching the last one puts the original module back, so the model is then exactly the
original. It implements the :class:`locas_engine.protocol.Memory` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from .adapter import Branch, Site, attach, site_of
from .ffn import GLUFFN
from .glu_merge import merge_glu, unmerge_glu
from .init import initialize_memory
from .protocol import MemoryBase
from .spec import MemorySpec

if TYPE_CHECKING:
    from .backbone import Backbone

METHOD = "locas-glu"


class LayerMemory(nn.Module):
    """One layer's side FFN; parameters in fp32 on the FFN's device."""

    def __init__(self, hidden: int, rank: int, tau: float, device: torch.device) -> None:
        super().__init__()
        self.G = nn.Parameter(torch.zeros(rank, hidden, device=device))  # (r, d) gate keys
        self.K = nn.Parameter(torch.zeros(rank, hidden, device=device))  # (r, d) up keys
        self.V = nn.Parameter(torch.zeros(hidden, rank, device=device))  # (d, r) values; 0 = no-op
        self.register_buffer("tau", torch.tensor(float(tau), device=device))

    def forward(self, a: torch.Tensor, act) -> torch.Tensor:
        """``tau * V (act(G a) * K a)`` computed in the input's dtype; a: (..., d)."""
        dt = a.dtype
        h = act(F.linear(a, self.G.to(dt))) * F.linear(a, self.K.to(dt))  # (..., r)
        return F.linear(h, self.V.to(dt)) * self.tau.to(dt)  # (..., d)


class LocasMemory(MemoryBase):
    """A named Locas-GLU memory over some layers of one backbone.

    Besides tensors it carries the bookkeeping that store.py saves: which backbone it was made
    for, what was memorized (sources, in order) and the online-perplexity curve.
    """

    method = METHOD

    def __init__(self, name: str, config: MemorySpec, ffns: Sequence[GLUFFN],
                 backbone_name: str = "", backbone_fingerprint: str = "") -> None:
        super().__init__(name, config, [f.index for f in ffns], ffns[0].hidden_size,
                         backbone_name, backbone_fingerprint)
        self._acts: dict[int, Any] = {}
        for f in ffns:
            tau = output_tau(f, config.output_scale)
            self.per_layer[str(f.index)] = LayerMemory(f.hidden_size, config.rank, tau, f.device)
            self._acts[f.index] = f.act
        self.initialized = False  # set by init.initialize_memory on the first chunk

    # --- structure -----------------------------------------------------------------------
    def layer(self, index: int) -> LayerMemory:
        return self.per_layer[str(index)]

    @property
    def rank(self) -> int:
        return self.config.rank

    def tau(self) -> dict[int, float]:
        return {i: float(self.layer(i).tau) for i in self.layers}

    def num_parameters(self) -> int:
        """Trainable parameters: 3 * L * d * r."""
        return super().num_parameters()

    def sizes(self) -> dict[str, Any]:
        return {"rank": self.rank}

    # --- attaching (see adapter.py) --------------------------------------------------------
    def branches(self, backbone: Backbone) -> list[tuple[Site, Branch]]:
        """One branch per layer, on the FFN module: ``out + tau V (act(G a) * K a)``."""
        if self.hidden_size != backbone.hidden_size or max(self.layers) >= backbone.num_layers:
            raise ValueError(
                f"Memory '{self.name}' does not fit this model (hidden size {self.hidden_size}, "
                f"layers up to {max(self.layers)})."
            )
        ffns = backbone.ffns
        return [(site_of(backbone.model, ffns[i].name), self._branch(i)) for i in self.layers]

    def _branch(self, index: int) -> Branch:
        mem, act = self.layer(index), self._acts[index]

        def branch(a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            if not self.enabled or self.merged:
                return out
            return out + self.in_rows(mem(a, act))  # (B, T, d)

        return branch

    # --- training and merging (the Memory protocol) --------------------------------------
    def initialize(self, backbone: Backbone, input_ids: torch.Tensor) -> None:
        initialize_memory(backbone, self, input_ids)

    def writer(self) -> None:
        """Locas-GLU always trains; it never writes slots."""
        return None

    def merge_into(self, backbone: Backbone) -> None:
        merge_glu(backbone, self)

    def unmerge_from(self, backbone: Backbone) -> None:
        unmerge_glu(backbone, self)

    # --- safeguards ----------------------------------------------------------------------
    @torch.no_grad()
    def clip_(self) -> None:
        """Weight-norm clipping: each slot's gate row, key row and value column to norm <= 1
        (``w <- w / max(||w||, 1)``), which keeps a few steps of large learning rate from
        blowing up any one slot."""
        for m in self.per_layer.values():
            m.G.div_(m.G.norm(dim=1, keepdim=True).clamp_min(1.0))  # rows of (r, d)
            m.K.div_(m.K.norm(dim=1, keepdim=True).clamp_min(1.0))  # rows of (r, d)
            m.V.div_(m.V.norm(dim=0, keepdim=True).clamp_min(1.0))  # columns of (d, r)


def output_tau(ffn: GLUFFN, output_scale: float) -> float:
    """``tau = output_scale * mean_j ||W_down[:, j]||``: the same at every rank (see MemorySpec).

    The method's ``mean norm / r`` is ``output_scale = 1 / r``; the tuned default 1.0 is the old
    ``tau_scale`` 64 at r = 64, and ``(norm / 64) * 64 == norm`` exactly (powers of two), so that
    tau is unchanged bit for bit.
    """
    w = ffn.down_weight().detach().float()  # (d, m)
    return float(w.norm(dim=0).mean()) * output_scale


def _choose_layers(backbone: Backbone, spec: MemorySpec) -> list[GLUFFN]:
    ffns = backbone.ffns
    layers = spec.layer_indices(len(ffns))  # ValueError with a sentence for a bad choice
    if layers is None:
        return list(ffns)
    bad = [i for i in layers if not 0 <= i < len(ffns)]
    if bad:
        raise ValueError(
            f"Layers {bad} do not exist: this model has layers 0 to {len(ffns) - 1}."
        )
    return [ffns[i] for i in layers]


def attach_memory(backbone: Backbone, config: MemorySpec | None = None,
                  name: str = "memory") -> LocasMemory:
    """Create a fresh memory (V = 0, so no logit changes) and attach it to ``backbone``.

    G and K start as random unit rows; the memorizer replaces them with the configured
    initializer on the first chunk it sees.
    """
    config = config or MemorySpec()
    if name in backbone.memories:
        raise ValueError(f"A memory named '{name}' is already attached; pick another name.")
    ffns = _choose_layers(backbone, config)  # checks everything before changing anything
    memory = LocasMemory(name, config, ffns, backbone.name, backbone.fingerprint)
    gen = torch.Generator().manual_seed(config.seed)
    with torch.no_grad():
        for m in memory.per_layer.values():
            for p in (m.G, m.K):
                w = torch.randn(p.shape, generator=gen)  # (r, d) on CPU for reproducibility
                p.copy_(w / w.norm(dim=1, keepdim=True))
    attach(backbone, memory)
    return memory
