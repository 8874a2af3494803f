"""FFN discovery and the memory's adapter contract (inject / switch / detach / unload) on every
architecture."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import PROMPT, logits, tiny_model, weights_hash

from locas_engine import (
    MemorySpec,
    UnsupportedModelError,
    attach_memory,
    backbone_from_model,
    detach_memory,
    find_ffns,
    only_enabled,
)
from locas_engine.adapter import MemoryAdapter, Site, inject


def test_finds_every_glu_ffn(tiny):
    ffns = tiny.ffns
    assert [f.index for f in ffns] == [0, 1, 2]
    a = torch.randn(2, 5, 32)
    for f in ffns:
        assert f.gate_weight().shape == f.up_weight().shape == (48, 32)
        assert f.down_weight().shape == (32, 48)
        # The accessor's intermediate reproduces the module's own forward.
        torch.testing.assert_close(f.module.down_proj(f.intermediate(a)), f.module(a))


def test_gemma_uses_tanh_gelu():
    for arch in ("gemma", "gemma2", "gemma3"):
        act = find_ffns(tiny_model(arch))[0].act
        x = torch.linspace(-3, 3, 11)
        torch.testing.assert_close(act(x), torch.nn.functional.gelu(x, approximate="tanh"))


def test_phi3_is_fused():
    assert all(f.fused for f in find_ffns(tiny_model("phi3")))


def test_gpt2_is_refused_with_what_was_found():
    with pytest.raises(UnsupportedModelError, match="c_fc"):
        find_ffns(tiny_model("gpt2"))


def test_fresh_memory_changes_no_logit(tiny):
    base = logits(tiny.model)
    attach_memory(tiny, MemorySpec(rank=8), name="m")
    assert torch.equal(logits(tiny.model), base)


def test_disable_and_detach_restore_exactly(tiny, randomize_values):
    base = logits(tiny.model)
    h = weights_hash(tiny.model)
    mem = attach_memory(tiny, MemorySpec(rank=8), name="m")
    randomize_values(mem)
    on = logits(tiny.model)
    assert (on - base).abs().max() > 1e-3
    with only_enabled(tiny.memories, []):
        assert torch.equal(logits(tiny.model), base)
    assert torch.equal(logits(tiny.model), on)
    mem.enabled = False
    assert torch.equal(logits(tiny.model), base)
    mem.enabled = True
    detach_memory(tiny, mem)
    assert torch.equal(logits(tiny.model), base)
    assert weights_hash(tiny.model) == h
    assert set(tiny.model.state_dict()) == set(backbone_from_model(tiny.model).model.state_dict())


def test_attach_wraps_the_ffns_and_detach_unloads_them(tiny_llama):
    """The adapter keeps the very FFN module as its base (same weights); the memory's own
    parameters never join the backbone's; the last detach puts the original modules back."""
    bb = tiny_llama
    keys = list(bb.model.state_dict())
    originals = [(name, module) for name, module in bb.model.named_modules()]
    params = {id(p) for p in bb.model.parameters()}
    a = attach_memory(bb, MemorySpec(rank=4), name="a")
    b = attach_memory(bb, MemorySpec(rank=4, layers=[1]), name="b")
    wrapped = [m for m in bb.model.modules() if isinstance(m, MemoryAdapter)]
    assert len(wrapped) == 3 and [w.base_layer for w in wrapped] == [f.module for f in bb.ffns]
    assert list(wrapped[1].branches) == ["a", "b"]  # two memories share one adapter
    assert {id(p) for p in bb.model.parameters()} == params  # no memory parameter inside
    detach_memory(bb, a)
    assert sum(isinstance(m, MemoryAdapter) for m in bb.model.modules()) == 1  # b's layer
    detach_memory(bb, b)
    assert [(n, m) for n, m in bb.model.named_modules()] == originals  # same objects, same tree
    assert list(bb.model.state_dict()) == keys and bb.memories == {}


def test_injection_is_all_or_nothing(tiny_llama):
    """One bad target refuses the whole injection: no module is wrapped, no branch added."""
    bb = tiny_llama
    layers = [bb.model.get_submodule(f.name.rpartition(".")[0]) for f in bb.ffns]
    good = [(Site(layer, "mlp"), lambda a, out: out) for layer in layers]
    bad = (Site(layers[2], "no_such_ffn"), lambda a, out: out)
    for branches in (good[:2] + [bad], good + [good[0]]):
        with pytest.raises(ValueError, match="nothing was attached"):
            inject("m", branches)
        assert not any(isinstance(m, MemoryAdapter) for m in bb.model.modules())
    mem = attach_memory(bb, MemorySpec(rank=4), name="m")
    with pytest.raises(ValueError, match="already attached"):
        inject("m", good)  # a second copy of the same memory, even without the registry
    assert all(list(layer.mlp.branches) == ["m"] for layer in layers)
    detach_memory(bb, mem)


def test_layer_subset_and_two_memories_add(tiny_llama, randomize_values):
    bb = tiny_llama
    base = logits(bb.model)
    a = attach_memory(bb, MemorySpec(rank=4, layers=[2]), name="a")
    randomize_values(a, seed=1)
    assert a.layers == [2]
    assert a.num_parameters() == 3 * 1 * 32 * 4
    b = attach_memory(bb, MemorySpec(rank=4, layers=[2]), name="b")
    randomize_values(b, seed=2)
    # One layer only (the last): each memory's contribution to the FFN output adds up.
    ffn = bb.model.get_submodule(bb.ffns[2].name)  # the adapter: FFN plus memories
    assert isinstance(ffn, MemoryAdapter)
    seen = {}
    handle = ffn.register_forward_hook(lambda m, i, o: seen.__setitem__("out", o))
    logits(bb.model)
    both = seen["out"]
    with only_enabled(bb.memories, ["b"]):
        logits(bb.model)
        only_b = seen["out"]
    with only_enabled(bb.memories, ["a"]):
        logits(bb.model)
        only_a = seen["out"]
    with only_enabled(bb.memories, []):
        logits(bb.model)
        none = seen["out"]
    handle.remove()
    torch.testing.assert_close(both - none, (only_a - none) + (only_b - none), atol=1e-5, rtol=1e-4)
    with pytest.raises(ValueError, match="already attached"):
        attach_memory(bb, MemorySpec(rank=4), name="a")
    detach_memory(bb, "a")
    detach_memory(bb, b)
    assert torch.equal(logits(bb.model), base)


def test_bad_layer_is_refused_before_anything_changes(tiny_llama):
    with pytest.raises(ValueError, match="layers 0 to 2"):
        attach_memory(tiny_llama, MemorySpec(rank=4, layers=[0, 7]), name="m")
    assert tiny_llama.memories == {}
    assert not any(isinstance(m, MemoryAdapter) for m in tiny_llama.model.modules())


def test_tau_follows_the_method(tiny):
    mem = attach_memory(tiny, MemorySpec(rank=8, output_scale=0.25), name="m")
    for f in tiny.ffns:
        expected = f.down_weight().norm(dim=0).mean().item() / 8 * 2.0
        assert mem.tau()[f.index] == pytest.approx(expected, rel=1e-6)


def test_clipping_bounds_every_slot(tiny_llama):
    mem = attach_memory(tiny_llama, MemorySpec(rank=8), name="m")
    with torch.no_grad():
        for m in mem.per_layer.values():
            m.G.mul_(5)
            m.K.mul_(0.5)
            m.V.normal_(0, 3)
    small = mem.layer(0).K.detach().clone()
    mem.clip_()
    for m in mem.per_layer.values():
        assert m.G.norm(dim=1).max() <= 1 + 1e-6
        torch.testing.assert_close(m.G.norm(dim=1), torch.ones(8))
        assert m.V.norm(dim=0).max() <= 1 + 1e-6
    assert torch.equal(mem.layer(0).K, small)  # already inside the ball: untouched


def test_memory_computes_in_input_dtype(tiny_llama, randomize_values):
    bb = tiny_llama
    bb.model.to(torch.bfloat16)
    mem = attach_memory(bb, MemorySpec(rank=4), name="m")
    randomize_values(mem)
    out = logits(bb.model)
    assert out.dtype == torch.bfloat16
    assert mem.layer(0).G.dtype == torch.float32


def test_two_threads_answer_at_once_with_different_memories(tiny_llama, randomize_values):
    """only_enabled holds in its own thread (and the generate thread it starts), so Compare can
    write the answer with the memory and the one without it at the same time on one model."""
    import threading

    from locas_engine.generate import generate_ids

    bb = tiny_llama
    memory = attach_memory(bb, MemorySpec(rank=4), name="m")
    randomize_values(memory, scale=2.0)
    on, off = logits(bb.model), None
    with only_enabled(bb.memories, []):
        off = logits(bb.model)
        plain_answer = list(generate_ids(bb, PROMPT, {2}, 8, plain_ending=False))
    memory_answer = list(generate_ids(bb, PROMPT, {2}, 8, plain_ending=False))
    assert not torch.allclose(on, off) and plain_answer != memory_answer

    start = threading.Barrier(2)
    seen: dict[str, list] = {"on": [], "off": []}

    def run(key: str, names: list[str]) -> None:
        with only_enabled(bb.memories, names):
            start.wait()
            for _ in range(3):  # the two threads' forward passes interleave
                seen[key].append(logits(bb.model))
            seen[key].append(list(generate_ids(bb, PROMPT, {2}, 8, plain_ending=False)))

    threads = [threading.Thread(target=run, args=("on", ["m"])), threading.Thread(target=run, args=("off", []))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in seen["on"][:3]:
        torch.testing.assert_close(got, on)
    for got in seen["off"][:3]:
        torch.testing.assert_close(got, off)
    assert seen["on"][3] == memory_answer and seen["off"][3] == plain_answer
    assert memory.enabled  # no thread's choice leaked into the memory's own switch


def test_inside_only_enabled_the_block_decides_and_the_switch_is_refused(tiny_llama):
    """One way to switch a memory for a while: a nested only_enabled (as the shelf bench routes
    chunk by chunk), never the flag, whose change would be lost or leak to the block's readers."""
    memory = attach_memory(tiny_llama, MemorySpec(rank=4), name="m")
    with only_enabled(tiny_llama.memories, ["m"]):
        with pytest.raises(RuntimeError, match="nest another only_enabled"):
            memory.enabled = False
        with only_enabled(tiny_llama.memories, []):
            assert not memory.enabled
        assert memory.enabled
    assert memory.enabled
    memory.enabled = False  # outside any block: the memory's own switch
    with only_enabled(tiny_llama.memories, ["m"]):
        assert memory.enabled
    assert not memory.enabled
