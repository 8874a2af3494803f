"""Stop a forward pass between two decoder layers when the caller says so.

Decoding checks ``should_stop`` between tokens, but a long prompt's first pass (the prefill)
takes seconds on a CPU and checks nothing, nor does the memory-off pass that decides where an
answer ends: a person who pressed Stop before the first word waited for both. Within
``interruptible(model, should_stop)``, every decoder layer first asks ``should_stop`` and raises
`Interrupted` when it says yes, so a pass ends within one layer's work.

The check is held in a context variable: it applies to forward passes run in this context (and
in threads started in a copy of it, as ``generate_ids`` starts its own), never to another answer
or a memorization on the same model. The layer hooks exist only while a block is open.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from torch import nn

_SHOULD_STOP: ContextVar[Callable[[], bool] | None] = ContextVar("locas_should_stop", default=None)
_LOCK = threading.Lock()


class Interrupted(Exception):  # noqa: N818 - what happened, not an error: the caller asked for it
    """A forward pass was ended because the caller's ``should_stop`` said so."""


def decoder_layers(model: nn.Module) -> list[nn.Module]:
    """The model's decoder layers: its longest ModuleList (``model.layers``, ``transformer.h``)."""
    lists = [m for m in model.modules() if isinstance(m, nn.ModuleList)]
    return list(max(lists, key=len)) if lists else [model]


def _check(_module: nn.Module, _args: tuple) -> None:
    should_stop = _SHOULD_STOP.get()
    if should_stop is not None and should_stop():
        raise Interrupted("stopped by the caller")


@contextmanager
def interruptible(model: nn.Module, should_stop: Callable[[], bool] | None) -> Iterator[None]:
    """Forward passes of ``model`` in this context raise `Interrupted` once ``should_stop()``."""
    if should_stop is None:
        yield
        return
    with _LOCK:  # two answers written at once may open blocks on the same model together
        handles = [layer.register_forward_pre_hook(_check) for layer in decoder_layers(model)]
    token = _SHOULD_STOP.set(should_stop)
    try:
        yield
    finally:
        _SHOULD_STOP.reset(token)
        with _LOCK:
            for handle in handles:
                handle.remove()
