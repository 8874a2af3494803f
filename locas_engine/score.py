"""Score given continuations under the backbone (with whatever memories are on): the
log-probability of each token of a target text after its context.

What reranking passages and choosing among candidate answers both need: many (context, target)
pairs that share a long beginning (the chat template and the instruction; or a whole prompt with
passages, followed by each candidate answer). The shared beginning is read once and its KV cache
repeated over each batch, so scoring twenty candidates after a 1,000-token prompt costs one
pass over the prompt plus twenty short ones, not twenty long ones.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch

from .backbone import Backbone
from .generate import _cache_kwarg

__all__ = ["common_prefix", "score_pairs", "token_ids"]


def token_ids(backbone: Backbone, text: str) -> list[int]:
    """``text`` as ids, without the tokenizer's special tokens (a continuation, not a prompt)."""
    return list(backbone.tokenizer(text, add_special_tokens=False)["input_ids"])


def common_prefix(sequences: Sequence[Sequence[int]]) -> int:
    """Length of the longest beginning that every sequence shares."""
    if not sequences:
        return 0
    first = sequences[0]
    n = min(len(s) for s in sequences)
    for i in range(n):
        token = first[i]
        if any(s[i] != token for s in sequences):
            return i
    return n


@torch.no_grad()
def score_pairs(backbone: Backbone, pairs: Sequence[tuple[Sequence[int], Sequence[int]]],
                batch_size: int = 16) -> list[list[float]]:
    """For each (context ids, target ids): the log-probability of every target token given the
    context and the target tokens before it (teacher forced), in order. An empty target scores [].

    The beginning all the contexts share is read once; the rest of each pair is read in batches
    of ``batch_size`` on a copy of the shared KV cache. Results equal scoring each
    pair alone up to floating-point rounding.
    """
    if not pairs:
        return []
    model = backbone.model
    device = backbone.device
    sequences = [list(c) + list(t) for c, t in pairs]
    # the shared part may not reach into any target: the first target token is predicted from
    # the context's last position, so at most every context but its last token is shared
    shared = min(common_prefix(sequences), *(max(len(c) - 1, 0) for c, _ in pairs))
    cache_kw = _cache_kwarg(model)
    past = None
    if shared > 0:
        ids = torch.tensor([sequences[0][:shared]], device=device)
        out = model(input_ids=ids, use_cache=True, logits_to_keep=1, **{cache_kw: None})
        past = getattr(out, cache_kw, None)
    results: list[list[float]] = [[] for _ in pairs]
    order = sorted(range(len(pairs)), key=lambda i: len(sequences[i]))  # similar lengths together
    for b in range(0, len(order), batch_size):
        batch = order[b:b + batch_size]
        rests = [sequences[i][shared:] for i in batch]
        width = max(len(r) for r in rests)
        # Left-padded, so that every target ends in the last column and only the last columns'
        # logits are computed (the output layer over a 49k vocabulary is a fifth of a small
        # model's work per position); the pads are masked and the positions given explicitly.
        ids = torch.zeros((len(batch), width), dtype=torch.long, device=device)
        mask = torch.zeros((len(batch), shared + width), dtype=torch.long, device=device)
        positions = torch.zeros((len(batch), width), dtype=torch.long, device=device)
        mask[:, :shared] = 1
        for row, rest in enumerate(rests):
            ids[row, width - len(rest):] = torch.tensor(rest, dtype=torch.long)
            mask[row, shared + width - len(rest):] = 1
            positions[row, width - len(rest):] = torch.arange(shared, shared + len(rest))
        kwargs = {}
        if past is not None:
            cache = copy.deepcopy(past)
            if len(batch) > 1:
                cache.batch_repeat_interleave(len(batch))
            kwargs[cache_kw] = cache
        keep = max(len(pairs[i][1]) for i in batch) + 1
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions, use_cache=past is not None,
                       logits_to_keep=keep, **kwargs).logits.float()
        logp = torch.log_softmax(logits, dim=-1)  # (batch, keep, vocab): the last ``keep`` columns
        for row, i in enumerate(batch):
            target = pairs[i][1]
            if not target:
                continue
            # target token k sits in column width - len(target) + k and is predicted from the
            # column before it; in the kept logits, column c is c - (width - keep)
            first = keep - len(target) - 1
            cols = torch.arange(first, first + len(target), device=device)
            wanted = torch.tensor(list(target), dtype=torch.long, device=device)
            results[i] = logp[row, cols, wanted].tolist()
    return results
