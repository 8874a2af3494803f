"""Inject memories into a model peft-style: a wrapper module around each targeted layer.

A :class:`MemoryAdapter` takes the place of one module of the backbone (a GLU FFN for
Locas-GLU, a projection of a two-layer MLP for Locas-MLP), keeps that module as
``base_layer`` and, after running it, hands its input and output to each attached memory's
*branch*, which returns the output to pass on (the memory's contribution added, or the input
recorded). Several memories share one wrapper; their branches run in attach order.

Injection is all-or-nothing: every target is checked before the first module is replaced, so a
bad target leaves the model as it was. Removing a memory's last branch from a wrapper puts the
original module back (unload), so with no memory attached the model is exactly the one that was
loaded: same module objects, same ``state_dict`` keys. While memories are attached the keys of
wrapped modules gain ``base_layer.``; :func:`plain_modules` swaps the originals back for a
while, which is how a merged model is saved.

Switching: each memory's ``enabled`` flag, read by its branches, is the one switch, and
:func:`only_enabled` the one way to set it for a while.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from .protocol import SWITCHES

if TYPE_CHECKING:
    from .backbone import Backbone
    from .protocol import Memory

# (input, output) -> the output to pass on; a branch reads its memory's switch itself.
Branch = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class MemoryAdapter(nn.Module):
    """A base layer plus the branches of the memories attached to it.

    The memories' parameters are not submodules of the adapter: the backbone's
    ``parameters()`` never include them, so freezing the backbone cannot freeze a memory, and a
    memory's state_dict stays its own.
    """

    def __init__(self, base_layer: nn.Module) -> None:
        super().__init__()
        self.base_layer = base_layer
        self.branches: dict[str, Branch] = {}  # memory name -> branch, in attach order

    def forward(self, *args, **kwargs):
        out = self.base_layer(*args, **kwargs)
        if self.branches:
            x = args[0] if args else next(iter(kwargs.values()))  # the layer's input
            for branch in self.branches.values():
                out = branch(x, out)
        return out


def base_of(module: nn.Module) -> nn.Module:
    """The original module behind an adapter (the module itself when it is not wrapped)."""
    return module.base_layer if isinstance(module, MemoryAdapter) else module


@dataclass(frozen=True)
class Site:
    """Where one branch goes: the attribute ``attr`` of the module ``owner``."""

    owner: nn.Module
    attr: str

    def current(self) -> nn.Module | None:
        module = getattr(self.owner, self.attr, None)
        return module if isinstance(module, nn.Module) else None


def site_of(model: nn.Module, path: str) -> Site:
    """The Site of the submodule at ``path`` (e.g. ``model.layers.3.mlp``) inside ``model``."""
    parent, _, attr = path.rpartition(".")
    return Site(model.get_submodule(parent) if parent else model, attr)


def inject(name: str, branches: Sequence[tuple[Site, Branch]]) -> None:
    """Add memory ``name``'s branches, wrapping each target in an adapter once.

    Every target is checked first (it exists and holds no branch of that name yet); only then
    is anything replaced, so a ValueError leaves the model untouched.
    """
    for site, _ in branches:
        module = site.current()
        if module is None:
            raise ValueError(f"The model has no layer '{site.attr}' where memory '{name}' "
                             "should go; nothing was attached.")
        if isinstance(module, MemoryAdapter) and name in module.branches:
            raise ValueError(f"Memory '{name}' is already attached at '{site.attr}'.")
    if len({(id(s.owner), s.attr) for s, _ in branches}) != len(branches):
        raise ValueError(f"Memory '{name}' names one layer twice; nothing was attached.")
    for site, branch in branches:
        module = site.current()
        if not isinstance(module, MemoryAdapter):
            module = MemoryAdapter(module)
            setattr(site.owner, site.attr, module)
        module.branches[name] = branch


def eject(name: str, sites: Iterable[Site]) -> None:
    """Remove memory ``name``'s branches; an adapter left without any is replaced by its base."""
    for site in sites:
        module = site.current()
        if not isinstance(module, MemoryAdapter):
            continue
        module.branches.pop(name, None)
        if not module.branches:
            setattr(site.owner, site.attr, module.base_layer)


def unload(backbone: Backbone) -> list[Memory]:
    """Detach every memory (none may be merged): the model's original modules are all back."""
    merged = [m.name for m in backbone.memories.values() if m.merged]
    if merged:
        raise ValueError(f"Memory '{merged[0]}' is merged into the model; unmerge it first.")
    return [detach_memory(backbone, name) for name in list(backbone.memories)]


def adapters(model: nn.Module) -> list[tuple[Site, MemoryAdapter]]:
    """Every adapter in ``model`` with where it sits."""
    found = []
    for module in model.modules():
        for attr, child in module.named_children():
            if isinstance(child, MemoryAdapter):
                found.append((Site(module, attr), child))
    return found


@contextlib.contextmanager
def plain_modules(model: nn.Module) -> Iterator[nn.Module]:
    """The model with its original modules in place of the adapters for a while (to save it
    with the architecture's own parameter names); the adapters go back afterwards."""
    wrapped = adapters(model)
    for site, adapter in wrapped:
        setattr(site.owner, site.attr, adapter.base_layer)
    try:
        yield model
    finally:
        for site, adapter in wrapped:
            setattr(site.owner, site.attr, adapter)


@contextlib.contextmanager
def only_enabled(memories: Mapping[str, Memory], names: Iterable[str],
                 rows: torch.Tensor | None = None) -> Iterator[None]:
    """Switch on exactly the named ones of ``memories`` (a backbone's registry) for a while.

    The one way to choose which attached memories take part in a forward pass (answers, routing,
    benchmarks, the plain model). The choice holds in this thread's context only (and in the
    generate thread it starts), so another thread may run the same model with other memories on
    at the same time; leaving the block restores the choice before it, also on error.

    ``rows`` (bool, one per row of the batch): the named memories are on in those rows only,
    so one forward pass of a batch runs the model with and without them at once (the answer
    and the plain model that decides its end, ``generate_ids``). A merged memory is in the
    weights and stays on in every row.
    """
    on = set(names)
    switches = dict(SWITCHES.get() or {})
    switches.update({id(memory): (rows if rows is not None else True) if name in on else False
                     for name, memory in memories.items()})
    token = SWITCHES.set(switches)
    try:
        yield
    finally:
        SWITCHES.reset(token)


def attach(backbone: Backbone, memory: Memory) -> None:
    """Inject an existing (fresh, loaded or detached) memory into ``backbone``."""
    if memory.name in backbone.memories:
        raise ValueError(f"A memory named '{memory.name}' is already attached; pick another name.")
    branches = memory.branches(backbone)  # raises, with a sentence, when the memory does not fit
    inject(memory.name, branches)
    memory.sites = [site for site, _ in branches]
    backbone.memories[memory.name] = memory


def detach_memory(backbone: Backbone, memory: Memory | str) -> Memory:
    """Take a memory out; with none left the model is exactly the original one again."""
    name = memory if isinstance(memory, str) else memory.name
    mem = backbone.memories.get(name)
    if mem is None:
        raise ValueError(f"No memory named '{name}' is attached.")
    if mem.merged:
        raise ValueError(f"Memory '{name}' is merged into the model; unmerge it before detaching.")
    del backbone.memories[name]
    eject(name, mem.sites)
    mem.sites = []
    return mem
