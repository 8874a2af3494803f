"""Which memories of a shelf to switch on for a piece of text.

Memories add. With several attached, each one's output is noise on another book's text: the
shelf benchmark measured each book's text 10-14% less predictable with every memory on than with
its own memory alone. A question, though, arrives with context (the question itself, the
retrieved passages, or the text before a chunk) that says which book it is about, and a memory is
trained to do exactly one thing: predict its own book's text. So the candidate that predicts the
context best, each memory alone or all of them together, is the one to answer with.

Routing by loss needs nothing stored with the memories (no calibration statistics, no format
change) and works for any mix of memory kinds; it costs one forward pass over the context per
candidate, without gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .adapter import only_enabled
from .backbone import Backbone
from .memorizer import as_token_tensor, autocast_context

ALL = "all"


@dataclass
class Route:
    """The memories to switch on, and each candidate's mean next-token loss on the context."""

    memories: list[str]
    losses: dict[str, float] = field(default_factory=dict)  # candidate (a name or "all") -> loss

    @property
    def routed(self) -> bool:
        """False when there was nothing to choose (one memory, or no context to judge by)."""
        return bool(self.losses)


@torch.no_grad()
def route_memories(backbone: Backbone, names: Sequence[str], context: str | Sequence[int] | torch.Tensor,
                   max_tokens: int = 1024) -> Route:
    """Pick, among ``names`` (attached memories), the candidate that best predicts ``context``.

    Candidates are each memory alone and, with several, all of them together. ``context`` is
    text (tokenized without special tokens) or token ids; only its last ``max_tokens`` tokens
    are read. Memories outside ``names`` are switched off while judging; every memory's
    ``enabled`` flag is restored afterwards, so the caller decides what to switch on.
    """
    names = list(dict.fromkeys(names))
    ids = as_token_tensor(context, backbone.tokenizer)[-max_tokens:]
    if len(names) <= 1 or ids.numel() < 2:
        return Route(memories=names)
    missing = [n for n in names if n not in backbone.memories]
    if missing:
        raise ValueError(f"No memory named {missing[0]!r} is attached.")
    candidates: dict[str, set[str]] = {n: {n} for n in names}
    candidates[ALL] = set(names)
    x = ids.to(backbone.device).unsqueeze(0)  # (1, T)
    losses: dict[str, float] = {}
    for key, on in candidates.items():
        with only_enabled(backbone.memories, on), autocast_context(backbone.device, None):
            logits = backbone.model(input_ids=x, use_cache=False).logits[0, :-1]  # (T-1, V)
        losses[key] = F.cross_entropy(logits.float(), x[0, 1:]).item()
    best = min(losses, key=losses.get)
    return Route(memories=sorted(candidates[best], key=names.index), losses=losses)
