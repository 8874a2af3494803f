"""Initializers and the memorizer: protocol, frozen backbone, cancel, checkpoint + resume."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from engine_helpers import VOCAB, token_stream, weights_hash

from locas_engine import (
    Memorizer,
    MemorySpec,
    TrainingSpec,
    attach_memory,
    detach_memory,
    initialize_memory,
)
from locas_engine.init import unit_importance
from locas_engine.memorizer import chunk_loss, chunk_spans

X = torch.tensor([5, 17, 33, 8, 61, 12, 90, 44, 3, 27, 11, 70])


def _alpha_by_hand(bb, layer: int) -> torch.Tensor:
    """alpha_j = mean_t |act(W_gate a_t) * W_up a_t| from the FFN input captured directly."""
    seen = {}
    ffn = bb.ffns[layer]
    h = ffn.module.register_forward_pre_hook(lambda m, args: seen.__setitem__("a", args[0]))
    with torch.no_grad():
        bb.model(input_ids=X.unsqueeze(0))
    h.remove()
    a = seen["a"][0]  # (T, d)
    m = ffn.act(a @ ffn.gate_weight().T) * (a @ ffn.up_weight().T)  # (T, m)
    return m.abs().mean(dim=0)


@pytest.mark.parametrize("method", ["topk", "bottomk"])
def test_activation_cloning(tiny, method):
    mem = attach_memory(tiny, MemorySpec(rank=8, init=method), name="m")
    with torch.no_grad():
        base = tiny.model(input_ids=X.unsqueeze(0)).logits
    initialize_memory(tiny, mem, X)
    assert mem.initialized
    for f in tiny.ffns:
        alpha = _alpha_by_hand(tiny, f.index)
        S = alpha.topk(8, largest=(method == "topk")).indices
        lm = mem.layer(f.index)
        torch.testing.assert_close(lm.K, F.normalize(f.up_weight()[S], dim=1))
        torch.testing.assert_close(lm.G, F.normalize(f.gate_weight()[S], dim=1))
        assert torch.count_nonzero(lm.V) == 0
    with torch.no_grad():
        assert torch.equal(tiny.model(input_ids=X.unsqueeze(0)).logits, base)


def test_importance_matches_hand_computation(tiny_llama):
    alphas = unit_importance(tiny_llama, X, [0, 1, 2])
    for i in range(3):
        torch.testing.assert_close(alphas[i], _alpha_by_hand(tiny_llama, i))


def test_random_and_gaussian(tiny_llama):
    bb = tiny_llama
    rnd = attach_memory(bb, MemorySpec(rank=8, init="random", seed=3), name="r")
    initialize_memory(bb, rnd, X)
    up = F.normalize(bb.ffns[1].up_weight(), dim=1)  # (m, d)
    # Every K row is one of the backbone's normalized up rows.
    sims = rnd.layer(1).K @ up.T  # (r, m)
    torch.testing.assert_close(sims.max(dim=1).values, torch.ones(8))
    gau = attach_memory(bb, MemorySpec(rank=8, init="gaussian"), name="g")
    initialize_memory(bb, gau, X)
    torch.testing.assert_close(gau.layer(1).G.norm(dim=1), torch.ones(8))
    assert (gau.layer(1).K @ up.T).abs().max() < 0.99


def test_unknown_initializer_is_refused():
    with pytest.raises(ValueError, match="topk"):
        MemorySpec(init="best")


def test_chunk_spans_cover_the_stream_once():
    spans = chunk_spans(1000, 256, 100)
    assert spans[0] == (0, 0, 256)
    assert spans[1] == (156, 256, 512)
    assert spans[-1][2] == 1000
    assert sum(e - max(s, c + 1) for c, s, e in spans) == 999
    assert sum(e - max(s, c + 1) for c, s, e in chunk_spans(1000, 250, 0)) == 996


def test_chunk_loss_matches_full_forward(tiny_llama):
    ids = token_stream(64)
    with torch.no_grad():
        full = tiny_llama.model(input_ids=ids[16:48].unsqueeze(0)).logits[0]  # (32, V)
        loss, n = chunk_loss(tiny_llama.model, ids, (16, 32, 48))
    expected = F.cross_entropy(full[15:31], ids[32:48])
    assert n == 16
    torch.testing.assert_close(loss, expected)


def _memorize(bb, ids, settings, name="m", **kw):
    mem = attach_memory(bb, MemorySpec(rank=8), name=name)
    result = Memorizer(bb, mem, settings).run(ids, **kw)
    return mem, result


def test_memorizing_trains_only_the_memory_and_learns(tiny):
    h = weights_hash(tiny.model)
    ids = token_stream(320)
    progress, between = [], []
    mem, result = _memorize(tiny, ids, TrainingSpec(chunk=40, context=40, steps=2, lr=2e-2),
                            progress=progress.append, source="phrase",
                            between_chunks=lambda: between.append(len(progress)))
    assert weights_hash(tiny.model) == h
    assert all(p.grad is None for p in tiny.model.parameters())
    assert result.completed and result.tokens_done == 320
    assert [p.chunk_index for p in progress] == list(range(8))
    assert between == list(range(1, 8))  # after every chunk but the last
    assert progress[-1].tokens_done == 320 and progress[-1].eta_s == 0
    assert math.isclose(progress[-1].ppl, result.ppl)
    assert progress[-1].loss < progress[1].loss  # the repeated phrase gets easier
    assert mem.sources == [{"name": "phrase", "tokens": 320}]
    assert len(mem.curve) == 8
    for m in mem.per_layer.values():
        assert m.V.norm(dim=0).max() <= 1 + 1e-5  # clipped after every step


def test_a_memory_learns_alone_while_others_stay_attached(tiny_llama, randomize_values):
    """Memorizing book B after asking about book A must not train B on top of A's memory: B is
    used alone later (or routed to alone on a shelf), so it must be the memory B-alone would be."""
    ids = token_stream(160)
    settings = TrainingSpec(chunk=40, context=40, lr=1e-2)
    alone, _ = _memorize(tiny_llama, ids, settings, name="b")
    expected = {k: v.clone() for k, v in alone.state_dict().items()}
    detach_memory(tiny_llama, "b")

    other = attach_memory(tiny_llama, MemorySpec(rank=8), name="a")
    randomize_values(other)  # a finished memory that visibly changes the output, switched on
    seen: list[bool] = []
    beside, _ = _memorize(tiny_llama, ids, settings, name="b",
                          between_chunks=lambda: seen.append(other.enabled))
    for key, value in beside.state_dict().items():
        torch.testing.assert_close(value, expected[key])
    assert seen and not any(seen)  # off while B trains...
    assert other.enabled and beside.enabled  # ...and as it was afterwards


def test_online_score_is_the_pre_training_loss(tiny_llama):
    ids = token_stream(80)
    mem = attach_memory(tiny_llama, MemorySpec(rank=8), name="m")
    initialize_memory(tiny_llama, mem, ids[:40])
    with torch.no_grad():
        first, _ = chunk_loss(tiny_llama.model, ids, (0, 0, 40))
    seen = []
    Memorizer(tiny_llama, mem, TrainingSpec(chunk=40, context=40, lr=1e-2)).run(
        ids, progress=seen.append)
    assert seen[0].loss == pytest.approx(first.item(), rel=1e-6)


def test_cancel_stops_within_one_step(tiny_llama):
    ids = token_stream(400)
    calls = []

    def stop_after_five() -> bool:
        calls.append(1)
        return len(calls) > 5

    mem, result = _memorize(tiny_llama, ids, TrainingSpec(chunk=40, context=0, steps=2),
                            should_stop=stop_after_five)
    assert not result.completed
    assert len(calls) == 6  # five steps ran, the sixth check stopped it
    assert result.tokens_done == 80  # two whole chunks; the third was only partly trained
    assert mem.sources == []


def test_text_input_needs_and_uses_tokenizer(tiny_llama):
    with pytest.raises(AssertionError, match="tokenizer"):
        _memorize(tiny_llama, "some text", TrainingSpec())


def test_resume_ends_with_the_same_memory(tiny_llama, tmp_path):
    bb = tiny_llama
    ids = token_stream(400, seed=4)
    settings = TrainingSpec(chunk=40, context=40, steps=2, lr=1e-2, checkpoint_every=3)
    full, full_result = _memorize(bb, ids, settings, name="full")
    from locas_engine import detach_memory

    detach_memory(bb, full)
    ckpt = tmp_path / "m.ckpt"
    checks = []

    def stop_at_chunk_7() -> bool:  # two checks per chunk; stop before chunk 7's first step
        checks.append(1)
        return len(checks) == 15

    part, part_result = _memorize(bb, ids, settings, name="part", checkpoint_path=ckpt,
                                  should_stop=stop_at_chunk_7)
    assert not part_result.completed and part_result.tokens_done == 280
    assert ckpt.exists()
    detach_memory(bb, part)
    # A crash loses nothing more: a brand-new memory resumes from the checkpoint file.
    resumed, result = _memorize(bb, ids, settings, name="resumed", checkpoint_path=ckpt)
    assert result.completed
    for i in resumed.layers:
        for p in ("G", "K", "V"):
            assert torch.equal(getattr(resumed.layer(i), p), getattr(full.layer(i), p)), (i, p)
    assert result.ppl == full_result.ppl
    assert result.curve == full_result.curve


def test_resume_refuses_another_text(tiny_llama, tmp_path):
    ckpt = tmp_path / "m.ckpt"
    settings = TrainingSpec(chunk=40, context=0, checkpoint_every=1)
    _memorize(tiny_llama, token_stream(120), settings, name="a", checkpoint_path=ckpt)
    other = torch.randint(3, VOCAB, (120,))
    with pytest.raises(ValueError, match="different text"):
        _memorize(tiny_llama, other, settings, name="b", checkpoint_path=ckpt)
