"""What the memorizer, the store, merging and the adapter need from a memory of any method.

Locas-GLU (:mod:`locas_engine.memory`) and Locas-MLP (:mod:`locas_engine.mlp`) implement this
protocol; code outside them talks to a memory only through it, so a new method plugs in without
``isinstance`` checks anywhere else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

import torch
from torch import nn

if TYPE_CHECKING:
    from .adapter import Branch, Site
    from .backbone import Backbone


# The switches set by ``adapter.only_enabled``, by memory (its id), for the thread of execution
# that set them: a context variable, so two threads can answer at once with different memories
# on (Compare writes both of its answers together), and the thread ``generate`` runs in is
# started in a copy of its caller's context. None: every memory follows its own ``enabled``.
# A switch is a bool, or a bool tensor of shape (batch,): on in those rows of the batch only
# (``only_enabled(..., rows=...)``: the memory-on and the plain model in one forward pass).
SWITCHES: ContextVar[dict[int, bool | torch.Tensor] | None] = ContextVar("locas_memory_switches",
                                                                        default=None)


class MemoryBase(nn.Module):
    """The bookkeeping every method's memory carries besides its tensors: which backbone and
    layers it was made for, its switch and merge state, and what store.py saves about its
    training (sources in order, the online-perplexity curve, the last run's settings)."""

    def __init__(self, name: str, config: Any, layers: Sequence[int], hidden_size: int,
                 backbone_name: str = "", backbone_fingerprint: str = "") -> None:
        super().__init__()
        self.name = name
        self.config = config
        self.layers: list[int] = list(layers)
        self.hidden_size = hidden_size
        self.backbone_name = backbone_name
        self.backbone_fingerprint = backbone_fingerprint
        self.per_layer = nn.ModuleDict()  # str(layer) -> the method's per-layer module
        self._enabled = True  # the switch where no only_enabled is in force (see ``enabled``)
        self.merged = False  # folded into the backbone's weights (merge.merge_memory)
        self.sites: list[Site] = []  # where the adapter holds this memory's branches
        self.sources: list[dict[str, Any]] = []  # [{"name": ..., "tokens": n}] in order
        self.curve: list[tuple[int, float]] = []  # (tokens memorized so far, running ppl)
        self.training_info: dict[str, Any] = {}  # lr, chunk, context, steps of the last run

    @property
    def enabled(self) -> bool:
        """The one switch, read by the branches: the innermost ``only_enabled`` of this thread's
        context that names this memory decides, else the memory's own flag."""
        switches = SWITCHES.get()
        if switches is not None and id(self) in switches:
            on = switches[id(self)]
            return on if isinstance(on, bool) else True  # a row mask: on in some rows
        return self._enabled

    def in_rows(self, delta: torch.Tensor) -> torch.Tensor:
        """The memory's contribution ``delta`` (batch first), zeroed in the rows where an
        ``only_enabled(..., rows=...)`` switched it off; unchanged otherwise. Every method's
        branch passes what it adds through here."""
        switches = SWITCHES.get()
        rows = switches.get(id(self)) if switches is not None else None
        if not isinstance(rows, torch.Tensor):
            return delta
        mask = rows.to(delta.dtype)
        if delta.shape[0] != mask.numel():  # a model that flattens batch and positions (OPT)
            mask = mask.repeat_interleave(delta.shape[0] // mask.numel())
        return delta * mask.view(-1, *([1] * (delta.dim() - 1)))

    def rows_on(self, batch: int) -> list[bool]:
        """Whether the memory is on in each of ``batch`` rows of a forward pass run here."""
        switches = SWITCHES.get()
        rows = switches.get(id(self)) if switches is not None else None
        if isinstance(rows, torch.Tensor):
            return [bool(r) for r in rows.tolist()]
        return [self.enabled] * batch

    @enabled.setter
    def enabled(self, on: bool) -> None:
        # Inside an only_enabled that names this memory, that block decides: a change here would
        # either be lost or leak into the block's other readers, so it is refused.
        switches = SWITCHES.get()
        if switches is not None and id(self) in switches:
            raise RuntimeError(f"Memory '{self.name}' is switched by an only_enabled block here; "
                               "nest another only_enabled to change it for a while.")
        self._enabled = bool(on)

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class Writer(Protocol):
    """A memory that writes a chunk's tokens into new slots instead of training on them."""

    last_write_compressed: bool  # the slots moved: optimizer moments no longer apply

    def capturing(self) -> AbstractContextManager[Any]:
        """Record what :meth:`write` needs during the forward and backward run inside."""

    def write(self, capture: Any, positions: Sequence[int]) -> int:
        """Write the captured ``positions``; returns how many tokens were written."""


class Memory(Protocol):
    """A named memory beside some layers of one backbone."""

    method: str  # "locas-glu", "locas-mlp": the file format and the merge rule
    name: str
    config: Any  # the method's config dataclass (its ``clip`` and ``init`` are read here)
    layers: list[int]
    hidden_size: int
    backbone_name: str
    backbone_fingerprint: str
    enabled: bool  # read by the memory's branches: the one on/off switch
    merged: bool  # folded into the backbone's weights (branches then add nothing)
    initialized: bool  # False until the first chunk has set the memory up
    sites: list[Site]  # where the adapter holds its branches while attached
    sources: list[dict[str, Any]]
    curve: list[tuple[int, float]]
    training_info: dict[str, Any]

    # --- as an nn.Module: parameters and checkpoint state
    def parameters(self) -> Iterator[nn.Parameter]: ...
    def state_dict(self) -> dict[str, torch.Tensor]: ...
    def load_state_dict(self, state_dict: dict[str, torch.Tensor]) -> Any: ...
    def num_parameters(self) -> int: ...

    def sizes(self) -> dict[str, Any]:
        """How big it is in the method's own terms (``rank`` for GLU, ``capacity`` for MLP)."""

    # --- attaching
    def branches(self, backbone: Backbone) -> list[tuple[Site, Branch]]:
        """Where its branches go in ``backbone`` (ValueError with a sentence if it does not fit)."""

    # --- training
    def initialize(self, backbone: Backbone, input_ids: torch.Tensor) -> None:
        """Set the memory up from the first chunk's tokens (sets ``initialized``)."""

    def writer(self) -> Writer | None:
        """A writer when the next chunk is written rather than trained on, else None."""

    def clip_(self) -> None:
        """The method's safeguard after each optimizer step (when ``config.clip``)."""

    # --- merging
    def merge_into(self, backbone: Backbone) -> None:
        """Fold the memory into the backbone's weights in place."""

    def unmerge_from(self, backbone: Backbone) -> None:
        """Undo :meth:`merge_into`: the backbone's weights exactly as before."""
