"""Who decides where an answer ends when a memory is on (``generate_ids``)."""

from __future__ import annotations

import pytest
from engine_helpers import token_stream

from locas_engine import MemoryConfig, attach_memory
from locas_engine.generate import generate_ids

ANSWER_CAP = 12
EOT = 2  # the tiny configs' eos id


@pytest.fixture
def memorized(tiny_llama, randomize_values):
    """A tiny backbone whose memory visibly changes the greedy answer."""
    memory = attach_memory(tiny_llama, MemoryConfig(rank=8, tau_scale=16.0), name="m")
    randomize_values(memory, scale=2.0)
    return tiny_llama, memory


def plain_model_ends_after(backbone, answered: int):
    """Make the plain model (every memory off) want to end once ``answered`` tokens are written,
    by raising its end-of-turn logit there; returns the list of forward passes seen, True for a
    pass with a memory on. Passes with a memory on are left alone."""
    passes: list[bool] = []
    plain_passes = 0

    def hook(module, args, logits):
        nonlocal plain_passes
        memory_on = any(m.enabled for m in backbone.memories.values())
        passes.append(memory_on)
        if not memory_on:
            if plain_passes == answered:  # pass 0 reads the prompt and predicts the first token
                logits = logits.clone()
                logits[..., EOT] = 1e4
            plain_passes += 1
        return logits

    backbone.model.get_output_embeddings().register_forward_hook(hook)
    return passes



def answer(backbone, plain_ending: bool) -> list[int]:
    prompt = token_stream(20)[None, :]
    return list(generate_ids(backbone, prompt, {EOT}, ANSWER_CAP, plain_ending=plain_ending))


def test_with_a_memory_the_plain_model_decides_where_the_answer_ends(memorized):
    backbone, memory = memorized
    free = answer(backbone, plain_ending=False)
    assert len(free) == ANSWER_CAP and EOT not in free  # the memory alone talks to the cap
    with memory.disabled():
        assert answer(backbone, plain_ending=False) != free  # the memory chose these tokens

    plain_model_ends_after(backbone, answered=5)
    ended = answer(backbone, plain_ending=True)
    assert ended == free[:5]  # the memory's tokens, cut where the plain model would end

    assert answer(backbone, plain_ending=False) == free  # the ablation ignores the plain model


def test_without_a_memory_there_is_no_second_pass(memorized):
    backbone, memory = memorized
    passes = plain_model_ends_after(backbone, answered=5)
    with memory.disabled():
        ended = answer(backbone, plain_ending=True)
    assert len(ended) == 5
    assert passes == [False] * 6  # the prompt, then one pass per token: nothing doubled
