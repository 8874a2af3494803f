"""The Locas-GLU memory: a small side FFN of width r beside every chosen layer's FFN.

Per layer i: ``Mem(a) = V (act(G a) * K a)`` with ``G, K: (r, d)`` and ``V: (d, r)``, and the
layer's output becomes ``FFN(a) + tau * Mem(a)`` (see docs/locas-method.md).

The memory is attached with ``register_forward_hook`` on each FFN module instead of wrapping or
replacing modules: the backbone's module tree and state_dict stay untouched, detaching is just
removing the hooks (the model is then exactly the original), and several memories can sit on
one backbone at once (their outputs add).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

from .ffn import GLUFFN

if TYPE_CHECKING:
    from .backbone import Backbone

INITIALIZERS = ("topk", "bottomk", "random", "gaussian")


@dataclass
class MemoryConfig:
    """What a memory is: its width, where it sits, how it starts."""

    rank: int = 64  # r, slots per layer; the paper's default (r=16..128 all work)
    layers: Sequence[int] | None = None  # decoder layers carrying memory; None = all
    init: str = "topk"  # topk (paper default), bottomk, random, gaussian
    tau_scale: float = 1.0  # multiplier on the method's tau, for experiments only
    clip: bool = True  # weight-norm clipping after each step (the method's safeguard)
    seed: int = 0  # for the random / gaussian initializers

    def __post_init__(self) -> None:
        assert self.rank > 0, f"rank must be positive, got {self.rank}"
        if self.init not in INITIALIZERS:
            raise ValueError(
                f"Unknown initializer '{self.init}'; choose one of {', '.join(INITIALIZERS)}."
            )
        if self.layers is not None:
            self.layers = sorted({int(i) for i in self.layers})

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["layers"] = list(self.layers) if self.layers is not None else None
        return d


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


class Switchable:
    """What every kind of memory shares: hooks that make it ``attached``, and an ``enabled``
    flag those hooks read, so a memory can be switched off without being detached."""

    enabled: bool
    _handles: list

    @property
    def attached(self) -> bool:
        return bool(self._handles)

    @contextlib.contextmanager
    def disabled(self) -> Iterator[Switchable]:
        """Run the backbone without this memory for a while, without detaching it."""
        previous = self.enabled
        self.enabled = False
        try:
            yield self
        finally:
            self.enabled = previous


@contextlib.contextmanager
def only_enabled(memories: Mapping[str, Switchable], names: Iterable[str]) -> Iterator[None]:
    """Switch on exactly the named ones of ``memories`` (a backbone's registry) for a while.

    The one way to choose which attached memories take part in a forward pass (answers, routing,
    benchmarks); every memory's flag is put back afterwards, also on error.
    """
    on = set(names)
    previous = [(memory, memory.enabled) for memory in memories.values()]
    for name, memory in memories.items():
        memory.enabled = name in on
    try:
        yield
    finally:
        for memory, enabled in previous:
            memory.enabled = enabled


class LocasMemory(Switchable, nn.Module):
    """A named Locas-GLU memory over some layers of one backbone.

    Besides tensors it carries the bookkeeping that store.py saves: which backbone it was made
    for, what was memorized (sources, in order) and the online-perplexity curve.
    """

    def __init__(self, name: str, config: MemoryConfig, ffns: Sequence[GLUFFN],
                 backbone_name: str = "", backbone_fingerprint: str = "") -> None:
        super().__init__()
        self.name = name
        self.config = config
        self.layers: list[int] = [f.index for f in ffns]
        self.hidden_size = ffns[0].hidden_size
        self.backbone_name = backbone_name
        self.backbone_fingerprint = backbone_fingerprint
        self.per_layer = nn.ModuleDict()
        self._acts: dict[int, Any] = {}
        for f in ffns:
            tau = _method_tau(f, config.rank) * config.tau_scale
            self.per_layer[str(f.index)] = LayerMemory(f.hidden_size, config.rank, tau, f.device)
            self._acts[f.index] = f.act
        self.enabled = True
        self.initialized = False  # set by init.initialize_memory on the first chunk
        self.sources: list[dict[str, Any]] = []  # [{"name": ..., "tokens": n}] in order
        self.curve: list[tuple[int, float]] = []  # (tokens memorized so far, running ppl)
        self.training_info: dict[str, Any] = {}  # lr, chunk, context, steps of the last run
        self._handles: list[Any] = []

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
        return sum(p.numel() for p in self.parameters())

    def _hook(self, index: int):
        mem = self.layer(index)
        act = self._acts[index]

        def hook(module: nn.Module, args: tuple, kwargs: dict, output: torch.Tensor):
            if not self.enabled:
                return None  # None keeps the FFN's own output untouched
            a = args[0] if args else next(iter(kwargs.values()))  # (B, T, d) FFN input
            return output + mem(a, act)  # (B, T, d)

        hook._locas_hook = True  # lets merge strip these hooks from a copied model
        return hook

    def _attach_hooks(self, ffns: Sequence[GLUFFN]) -> None:
        assert not self._handles, f"memory '{self.name}' is already attached"
        by_index = {f.index: f for f in ffns}
        for i in self.layers:
            module = by_index[i].module
            self._handles.append(module.register_forward_hook(self._hook(i), with_kwargs=True))

    def _remove_hooks(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

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


def _method_tau(ffn: GLUFFN, rank: int) -> float:
    """``tau = mean_j ||W_down[:, j]|| / r``: the backbone's mean value-vector norm per slot."""
    w = ffn.down_weight().detach().float()  # (d, m)
    return float(w.norm(dim=0).mean()) / rank


def _choose_layers(backbone: Backbone, layers: Sequence[int] | None) -> list[GLUFFN]:
    ffns = backbone.ffns
    if layers is None:
        return list(ffns)
    bad = [i for i in layers if not 0 <= i < len(ffns)]
    if bad:
        raise ValueError(
            f"Layers {bad} do not exist: this model has layers 0 to {len(ffns) - 1}."
        )
    return [ffns[i] for i in layers]


def attach_memory(backbone: Backbone, config: MemoryConfig | None = None,
                  name: str = "memory") -> LocasMemory:
    """Create a fresh memory (V = 0, so no logit changes) and attach it to ``backbone``.

    G and K start as random unit rows; the memorizer replaces them with the configured
    initializer on the first chunk it sees.
    """
    config = config or MemoryConfig()
    if name in backbone.memories:
        raise ValueError(f"A memory named '{name}' is already attached; pick another name.")
    ffns = _choose_layers(backbone, config.layers)  # checks everything before changing anything
    memory = LocasMemory(name, config, ffns, backbone.name, backbone.fingerprint)
    gen = torch.Generator().manual_seed(config.seed)
    with torch.no_grad():
        for m in memory.per_layer.values():
            for p in (m.G, m.K):
                w = torch.randn(p.shape, generator=gen)  # (r, d) on CPU for reproducibility
                p.copy_(w / w.norm(dim=1, keepdim=True))
    attach(backbone, memory)
    return memory


def attach(backbone: Backbone, memory: LocasMemory) -> None:
    """Hook an existing (e.g. loaded or detached) memory onto ``backbone``."""
    if memory.name in backbone.memories:
        raise ValueError(f"A memory named '{memory.name}' is already attached; pick another name.")
    if memory.hidden_size != backbone.hidden_size or max(memory.layers) >= backbone.num_layers:
        raise ValueError(
            f"Memory '{memory.name}' does not fit this model (hidden size {memory.hidden_size}, "
            f"layers up to {max(memory.layers)})."
        )
    memory._attach_hooks(backbone.ffns)
    backbone.memories[memory.name] = memory


def detach_memory(backbone: Backbone, memory: LocasMemory | str) -> LocasMemory:
    """Remove a memory's hooks; the model then computes exactly what it did before."""
    name = memory if isinstance(memory, str) else memory.name
    mem = backbone.memories.pop(name, None)
    if mem is None:
        raise ValueError(f"No memory named '{name}' is attached.")
    mem._remove_hooks()
    return mem


def param_count(config: MemoryConfig, backbone: Backbone) -> int:
    """3 * L * d * r for the layers the config selects."""
    layers = len(_choose_layers(backbone, config.layers))
    return 3 * layers * backbone.hidden_size * config.rank


def parse_layers(spec: str | None, num_layers: int) -> list[int] | None:
    """Which layers carry memory: ``all`` -> None (every layer); ``15-29`` / ``0,4,8-11`` -> a list.

    Raises ValueError with a sentence for the user when the spec is malformed or names a layer
    the model does not have.
    """
    spec = (spec or "all").strip().lower()
    if spec == "all":
        return None
    layers: set[int] = set()
    try:
        for part in spec.split(","):
            if "-" in part:
                lo, hi = part.split("-", 1)
                layers.update(range(int(lo), int(hi) + 1))
            else:
                layers.add(int(part))
    except ValueError:
        raise ValueError(
            f"The layer choice '{spec}' is not 'all', a range like 15-29 or a list like 0,2,4."
        ) from None
    bad = sorted(i for i in layers if not 0 <= i < num_layers)
    if bad or not layers:
        raise ValueError(f"The model has layers 0-{num_layers - 1}; '{spec}' does not fit them.")
    return sorted(layers)
