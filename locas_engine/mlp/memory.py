"""The Locas-MLP memory and its attaching (see the package docstring for the method)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import torch

from ..adapter import Branch, Site, attach
from ..protocol import MemoryBase
from .config import METHOD, Activation, MLPMemoryConfig, soft_relu
from .ffn import MLPFFN
from .layer import MLPLayerMemory
from .merge import merge_mlp, unmerge_mlp
from .nlsvd import nlsvd_compress
from .write import Capture, as_btd, write_slots

if TYPE_CHECKING:
    from ..backbone import Backbone


class LocasMLPMemory(MemoryBase):
    """A named Locas-MLP memory over some layers of one backbone.

    Implements :class:`locas_engine.protocol.Memory` (the Memorizer, store and merge see only
    that) and its :class:`~locas_engine.protocol.Writer` (the Memorizer writes chunks with it).
    Its width is a capacity, C slots per layer that fill as tokens are written, not a rank.
    """

    method = METHOD

    def __init__(self, name: str, config: MLPMemoryConfig, ffns: Sequence[MLPFFN],
                 backbone_name: str = "", backbone_fingerprint: str = "") -> None:
        super().__init__(name, config, [f.index for f in ffns], ffns[0].hidden_size,
                         backbone_name, backbone_fingerprint)
        self._phis: dict[int, Activation] = {}
        for f in ffns:
            self.per_layer[str(f.index)] = MLPLayerMemory(f.hidden_size, config.capacity, f.device)
            self._phis[f.index] = soft_relu(f.act, config.sharpness)
        self._merge_width = 0  # units per layer that merge_into appended
        self.initialized = True  # nothing to initialize: slots are written from the first chunk
        self.last_write_compressed = False  # the Memorizer resets its optimizer state on it
        self._inputs: dict[int, torch.Tensor] = {}  # FFN input between the two projections
        self._capture: Capture | None = None

    # --- structure -----------------------------------------------------------------------
    def layer(self, index: int) -> MLPLayerMemory:
        return self.per_layer[str(index)]

    @property
    def capacity(self) -> int:
        return self.config.capacity

    def used(self) -> dict[int, int]:
        """Slots written so far, per layer."""
        return {i: self.layer(i).n_used for i in self.layers}

    @property
    def accepts_writes(self) -> bool:
        """Whether the next chunk is written (True) or trained by backprop (False)."""
        return self.config.compress == "nlsvd" or max(self.used().values()) < self.capacity

    def num_parameters(self) -> int:
        """Allocated parameters: L * (2 d + 1) * C."""
        return super().num_parameters()

    def phi(self, index: int) -> Activation:
        return self._phis[index]

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        result = super().load_state_dict(state_dict, strict=strict, assign=assign)
        for m in self.per_layer.values():
            m.sync_used()
        return result

    @contextlib.contextmanager
    def capturing(self) -> Iterator[Capture]:
        """Record FFN inputs during the forward passes run inside, and (through tensor hooks)
        the gradients at the FFN outputs during a later backward of their loss."""
        cap = Capture()
        self._capture = cap
        try:
            yield cap
        finally:
            self._capture = None

    # --- attaching (see adapter.py) --------------------------------------------------------
    def branches(self, backbone: Backbone) -> list[tuple[Site, Branch]]:
        """Two branches per layer: the up projection's records the FFN input, the down
        projection's adds ``V phi(K a + b)`` to the FFN output (and, while capturing, records
        the input and the gradient there)."""
        ffns = backbone.mlp_ffns  # UnsupportedModelError with a sentence for a GLU model
        if self.hidden_size != ffns[0].hidden_size or max(self.layers) >= len(ffns):
            raise ValueError(
                f"Memory '{self.name}' does not fit this model (hidden size {self.hidden_size}, "
                f"layers up to {max(self.layers)})."
            )
        out = []
        for i in self.layers:
            f = ffns[i]
            before_up, after_down = self._branches(i)
            out += [(Site(f.owner, f.up_attr), before_up), (Site(f.owner, f.down_attr), after_down)]
        return out

    def _branches(self, index: int) -> tuple[Branch, Branch]:
        mem, phi = self.layer(index), self._phis[index]

        def before_up(a: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
            if not self.merged and (self.enabled or self._capture is not None):
                self._inputs[index] = a  # (B, T, d) FFN input
            return out

        def after_down(h: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
            a = self._inputs.pop(index, None)
            if a is None:
                return output
            out = output + self.in_rows(mem(a, phi)) if self.enabled else output  # (B, T, d)
            cap = self._capture
            if cap is None:
                return out
            if not out.requires_grad:  # frozen backbone, nothing upstream: start a graph here
                out = out.detach().requires_grad_(True)
            cap.acts[index] = as_btd(a.detach())
            out.register_hook(lambda g: cap.grads.__setitem__(index, as_btd(g.detach())))
            return out

        return before_up, after_down

    # --- writing, training and merging (the Memory and Writer protocols) -------------------
    def write(self, capture: Capture, positions: Sequence[int] | torch.Tensor,
              batch_index: int = 0) -> int:
        """Write one slot per layer for each of ``positions``: see :func:`write.write_slots`."""
        return write_slots(self, capture, positions, batch_index)

    def writer(self) -> LocasMLPMemory | None:
        """Itself while it accepts writes; None once full (then its slots train by backprop)."""
        return self if self.accepts_writes else None

    def initialize(self, backbone: Backbone, input_ids: torch.Tensor) -> None:
        """Nothing to set up: slots are written from the first chunk."""
        self.initialized = True

    @torch.no_grad()
    def clip_(self) -> None:
        """Never clipped: slot norms carry the write's scale (``config.clip`` is always False)."""

    def sizes(self) -> dict[str, Any]:
        return {"capacity": self.capacity, "used": self.used()}

    def merge_into(self, backbone: Backbone) -> None:
        width = max(self.used().values())  # the most slots any layer holds
        merge_mlp(backbone, self, width)
        self._merge_width = width

    def unmerge_from(self, backbone: Backbone) -> None:
        unmerge_mlp(backbone, self._merge_width)

    @torch.no_grad()
    def compress_layer(self, index: int, keep: int, probes: torch.Tensor | None = None) -> None:
        """Shrink layer ``index`` to at most ``keep`` slots with :func:`nlsvd_compress`, probing
        with ``probes`` (P, d) or, by default, the inputs the slots were written for."""
        mem = self.layer(index)
        n = mem.n_used
        probes = mem.probes[:n] if probes is None else probes
        K, b, V, kept = nlsvd_compress(mem.K[:n], mem.b[:n], mem.V[:, :n], probes, keep,
                                       self._phis[index])
        mem.replace_(K, b, V, mem.probes[:n][kept])


def _choose_layers(backbone: Backbone, layers: Sequence[int] | None) -> list[MLPFFN]:
    ffns = backbone.mlp_ffns  # UnsupportedModelError with a sentence for a GLU model
    if layers is None:
        return list(ffns)
    bad = [i for i in layers if not 0 <= i < len(ffns)]
    if bad:
        raise ValueError(f"Layers {bad} do not exist: this model has layers 0 to {len(ffns) - 1}.")
    return [ffns[i] for i in layers]


def attach_mlp_memory(backbone: Backbone, config: MLPMemoryConfig | None = None,
                      name: str = "memory") -> LocasMLPMemory:
    """Create an empty Locas-MLP memory (no slots, so no logit changes) and attach it."""
    config = config or MLPMemoryConfig()
    if name in backbone.memories:
        raise ValueError(f"A memory named '{name}' is already attached; pick another name.")
    ffns = _choose_layers(backbone, config.layers)  # checks everything before changing anything
    memory = LocasMLPMemory(name, config, ffns, backbone.name, backbone.fingerprint)
    attach(backbone, memory)
    return memory

