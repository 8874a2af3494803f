"""Scoring continuations after a shared prefix (locas_engine/score.py)."""

from __future__ import annotations

import torch

from locas_engine import MemorySpec, attach_memory, only_enabled
from locas_engine.score import common_prefix, score_pairs


def _alone(backbone, context, target) -> list[float]:
    ids = torch.tensor([list(context) + list(target)])
    logp = torch.log_softmax(backbone.model(input_ids=ids).logits[0].float(), dim=-1)
    return [float(logp[len(context) - 1 + k, t]) for k, t in enumerate(target)]


def test_common_prefix():
    assert common_prefix([[1, 2, 3], [1, 2, 4], [1, 2]]) == 2
    assert common_prefix([[5], [6]]) == 0
    assert common_prefix([]) == 0


def test_scores_equal_each_pair_scored_alone(tiny):
    prompt = [5, 9, 11, 13, 17, 19, 23]
    pairs = [(prompt, [30, 31]), (prompt, [40]), (prompt, [41, 42, 43, 44]), (prompt, []),
             ([5, 9, 11, 60, 61], [70, 71]),  # a context that leaves the shared part early
             (prompt + [24], [25])]
    scored = score_pairs(tiny, pairs, batch_size=2)
    for (context, target), got in zip(pairs, scored, strict=True):
        want = _alone(tiny, context, target) if target else []
        assert len(got) == len(target)
        assert torch.allclose(torch.tensor(got), torch.tensor(want), atol=1e-4), (context, target)


def test_scores_follow_the_memory_switch(tiny_llama, randomize_values):
    memory = attach_memory(tiny_llama, MemorySpec(rank=4), name="m")
    randomize_values(memory)
    pairs = [([5, 9, 11, 13], [30, 31, 32]), ([5, 9, 11, 13], [40, 41])]
    with only_enabled(tiny_llama.memories, ["m"]):
        on = score_pairs(tiny_llama, pairs)
        want = [_alone(tiny_llama, c, t) for c, t in pairs]
    with only_enabled(tiny_llama.memories, []):
        off = score_pairs(tiny_llama, pairs)
    assert torch.allclose(torch.tensor(on[0]), torch.tensor(want[0]), atol=1e-4)
    assert not torch.allclose(torch.tensor(on[0]), torch.tensor(off[0]), atol=1e-3)
