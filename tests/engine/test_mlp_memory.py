"""Locas-MLP on tiny random GPT-2 / OPT / GPT-NeoX models: discovery, the write rule's
step-wise claim, merge / export, NL-SVD, the memorizer, save / load."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F
from engine_helpers import MLP_ARCHS, PROMPT, logits, tiny_model, token_stream, weights_hash

from locas_engine import (
    Memorizer,
    MemorySpec,
    TrainingSpec,
    UnsupportedModelError,
    attach_memory,
    backbone_from_model,
    detach_memory,
    export_merged,
    load_memory,
    merge_memory,
    only_enabled,
    read_memory_metadata,
    save_memory,
    unmerge_memory,
)
from locas_engine.adapter import MemoryAdapter, unload
from locas_engine.mlp.config import MLPMemoryConfig, soft_relu
from locas_engine.mlp.ffn import find_mlp_ffns
from locas_engine.mlp.memory import LocasMLPMemory, attach_mlp_memory
from locas_engine.mlp.nlsvd import nlsvd_compress
from locas_engine.mlp.write import write_tokens

X = PROMPT[0]  # (T,): the prompt logits() reads


@pytest.fixture(params=MLP_ARCHS)
def tiny_mlp(request):
    """A Backbone around a tiny model of each two-layer-MLP architecture."""
    return backbone_from_model(tiny_model(request.param), name=f"tiny-{request.param}")


def log_likelihood(bb, t: int) -> float:
    """log p(X[t] | X[:t]) under the backbone with its attached memories, in fp64."""
    return F.log_softmax(logits(bb.model)[0, t - 1].double(), -1)[X[t]].item()


def _written(bb, capacity: int = 16, **kw) -> LocasMLPMemory:
    mem = attach_mlp_memory(bb, MLPMemoryConfig(capacity=capacity, **kw), name="m")
    write_tokens(bb, mem, X)
    return mem


# --- discovery ---------------------------------------------------------------------------------
def test_finds_every_mlp_ffn_with_one_weight_layout(tiny_mlp):
    ffns = tiny_mlp.mlp_ffns
    assert [f.index for f in ffns] == [0, 1] and tiny_mlp.ffn_kind == "mlp"
    a = torch.randn(2, 5, 32)
    for f in ffns:
        m = f.intermediate_size
        assert f.up_weight().shape == (m, 32) and f.down_weight().shape == (32, m)
        # The (out, in) views reproduce the projections, Conv1D's transposed weight included.
        up = F.linear(a, f.up_weight(), f.up.bias)
        torch.testing.assert_close(f.forward(a), F.linear(f.act(up), f.down_weight(), f.down.bias))
    assert tiny_mlp.hidden_size == 32 and tiny_mlp.num_layers == 2


def test_gpt2_uses_conv1d_and_opt_hooks_the_decoder_layer():
    assert all(f.conv1d for f in find_mlp_ffns(tiny_model("gpt2")))
    opt = find_mlp_ffns(tiny_model("opt"))
    assert opt[0].name == "model.decoder.layers.0" and opt[0].up_attr == "fc1"


def test_glu_error_points_to_locas_mlp_and_mlp_refuses_glu(tiny_llama):
    with pytest.raises(UnsupportedModelError, match='"locas-mlp".*c_fc|c_fc.*"locas-mlp"'):
        attach_memory(backbone_from_model(tiny_model("gpt2")))
    with pytest.raises(UnsupportedModelError, match="two-layer MLP"):
        attach_mlp_memory(tiny_llama)
    assert tiny_llama.memories == {}


# --- attach / detach ---------------------------------------------------------------------------
def test_detach_restores_exactly_and_backbone_is_untouched(tiny_mlp):
    base = logits(tiny_mlp.model)
    h = weights_hash(tiny_mlp.model)
    keys = list(tiny_mlp.model.state_dict())
    mem = attach_mlp_memory(tiny_mlp, MLPMemoryConfig(capacity=16), name="m")
    assert torch.equal(logits(tiny_mlp.model), base)  # no slot yet: nothing changes
    write_tokens(tiny_mlp, mem, X)
    on = logits(tiny_mlp.model)
    assert (on - base).abs().max() > 1e-3 and mem.used() == {0: 9, 1: 9}
    with only_enabled(tiny_mlp.memories, []):
        assert torch.equal(logits(tiny_mlp.model), base)
    assert torch.equal(logits(tiny_mlp.model), on)
    detach_memory(tiny_mlp, mem)
    assert torch.equal(logits(tiny_mlp.model), base)
    assert weights_hash(tiny_mlp.model) == h and list(tiny_mlp.model.state_dict()) == keys


def test_unload_puts_every_projection_back(tiny_mlp):
    """Two memories wrap both projections of every layer; unload leaves no adapter and the
    very module objects of before, each of its own type."""
    bb = tiny_mlp
    before = list(bb.model.named_modules())
    keys = list(bb.model.state_dict())
    a = attach_mlp_memory(bb, MLPMemoryConfig(capacity=4), name="a")
    attach_mlp_memory(bb, MLPMemoryConfig(capacity=4, layers=[1]), name="b")
    wrapped = [m for m in bb.model.modules() if isinstance(m, MemoryAdapter)]
    assert len(wrapped) == 4 and {type(w.base_layer) for w in wrapped} == {type(bb.mlp_ffns[0].up)}
    merge_memory(bb, a)
    with pytest.raises(ValueError, match="unmerge it first"):
        unload(bb)
    assert set(bb.memories) == {"a", "b"}  # refused before anything was detached
    unmerge_memory(bb, a)
    assert [m.name for m in unload(bb)] == ["a", "b"] and bb.memories == {}
    assert list(bb.model.named_modules()) == before and list(bb.model.state_dict()) == keys


# --- the write rule -----------------------------------------------------------------------------
@pytest.mark.parametrize("t", [3, 9])
def test_a_written_slot_raises_its_tokens_log_likelihood(tiny_mlp, t):
    """The paper's step-wise claim: one write raises the token's log-likelihood, and for a
    small epsilon by the first-order amount ``epsilon * sum_l ||g_l||^2 / rms(g)``."""
    eps = 1e-3
    mem = attach_mlp_memory(tiny_mlp, MLPMemoryConfig(capacity=4, epsilon=eps), name="m")
    with mem.capturing() as cap, torch.enable_grad():
        out = tiny_mlp.model(input_ids=X[None]).logits[0, t - 1]  # (vocab,)
        (-F.log_softmax(out, -1)[X[t]]).backward()
    g = torch.stack([cap.grads[i][0, t - 1] for i in mem.layers]).double()  # (L, d)
    predicted = eps * g.pow(2).sum().item() / g.pow(2).mean().sqrt().item()
    before = log_likelihood(tiny_mlp, t)
    assert write_tokens(tiny_mlp, mem, X, [t]) == 1 and mem.used() == {0: 1, 1: 1}
    gain = log_likelihood(tiny_mlp, t) - before
    assert gain > 0 and gain == pytest.approx(predicted, rel=0.05)
    # Nothing trained: no gradient left on the memory, backbone frozen.
    assert all(p.grad is None for p in mem.parameters())


def test_write_rule_keys_and_values(tiny_mlp):
    """Each slot fires with strength exactly 1 on its own token; values have joint RMS eps."""
    with torch.no_grad():
        free = logits(tiny_mlp.model)
    mem = _written(tiny_mlp, epsilon=0.05)
    values = []
    for i in mem.layers:
        m = mem.layer(i)
        h = m.hidden(m.probes[: m.n_used], mem.phi(i))  # (n, n): the slots on their own inputs
        torch.testing.assert_close(h.diagonal(), torch.ones(9), atol=1e-3, rtol=0)
        assert (h - torch.diag(h.diagonal())).max() < 1.0  # no slot fires fully elsewhere
        values.append(m.V[:, : m.n_used])  # (d, n)
    rms = torch.stack(values).pow(2).mean(dim=(0, 1)).sqrt()  # (n,) over layers and hidden
    torch.testing.assert_close(rms, torch.full((9,), 0.05))
    # The probes are the FFN inputs of the memory-free window (one forward wrote all slots).
    with only_enabled(tiny_mlp.memories, []), mem.capturing() as cap, torch.no_grad():
        torch.testing.assert_close(logits(tiny_mlp.model), free)
    for i in mem.layers:
        rows = (mem.layer(i).probes[:9, None] - cap.acts[i][0][None]).norm(dim=-1)  # (9, T)
        assert rows.min(dim=1).values.max() < 1e-5


def test_backprop_mode_fills_then_trains(tiny_mlp):
    bb = tiny_mlp
    mem = attach_mlp_memory(bb, MLPMemoryConfig(capacity=48), name="m")
    stream = token_stream(160)
    settings = TrainingSpec(chunk=40, context=20, steps=1, lr=1e-2)
    result = Memorizer(bb, mem, settings).run(stream, source="phrase")
    assert result.completed and mem.used() == {0: 48, 1: 48} and not mem.accepts_writes
    with torch.no_grad():
        base = mem.layer(0).V.clone()
    Memorizer(bb, mem, settings).run(stream[:80])  # full: plain backprop on the 48 slots
    assert not torch.equal(mem.layer(0).V, base) and mem.used() == {0: 48, 1: 48}
    # The memorized phrase became easier than for the bare model.
    with only_enabled(bb.memories, []):
        bare = Memorizer(bb, attach_mlp_memory(bb, MLPMemoryConfig(capacity=1), name="x"),
                         TrainingSpec(chunk=40, context=20, lr=0.0)).run(stream[:80]).ppl
    again = Memorizer(bb, mem, TrainingSpec(chunk=40, context=20, lr=0.0)).run(stream[:80])
    assert again.ppl < bare


# --- NL-SVD -------------------------------------------------------------------------------------
def test_nlsvd_preserves_the_output_on_the_probe_span():
    """With rank(H) <= keep, the compressed slots reproduce the memory on the probes and on any
    input whose slot code lies in their span; otherwise values are the least-squares refit."""
    g = torch.Generator().manual_seed(0)
    n, d, P = 24, 16, 6
    K, b = torch.randn(n, d, generator=g), 0.1 * torch.randn(n, generator=g)
    V = torch.randn(d, n, generator=g)
    phi = soft_relu(torch.nn.functional.gelu, 32.0)
    probes = torch.randn(P, d, generator=g)
    Ks, bs, Vs, S = nlsvd_compress(K, b, V, probes, keep=8, phi=phi)
    assert Ks.shape[0] <= 8 and S.numel() == Ks.shape[0]

    def out(K, b, V, a):
        return phi(a @ K.T + b) @ V.T  # (P, d)

    torch.testing.assert_close(out(Ks, bs, Vs, probes), out(K, b, V, probes), atol=1e-4, rtol=1e-4)
    # More probes than kept slots: never worse than keeping the same slots' old values.
    many = torch.randn(64, d, generator=g)
    Ks, bs, Vs, S = nlsvd_compress(K, b, V, many, keep=12, phi=phi)
    target = out(K, b, V, many)
    refit = (out(Ks, bs, Vs, many) - target).norm()
    dropped = (out(K[S], b[S], V[:, S], many) - target).norm()
    assert refit < dropped


def test_nlsvd_mode_keeps_writing_within_capacity(tiny_mlp):
    bb = tiny_mlp
    mem = attach_mlp_memory(bb, MLPMemoryConfig(capacity=32, compress="nlsvd"), name="m")
    result = Memorizer(bb, mem, TrainingSpec(chunk=40, context=20)).run(token_stream(160))
    used = mem.used()
    assert result.completed and mem.accepts_writes
    assert all(16 <= u <= 32 for u in used.values()), used  # compressed to 16, then written


# --- merge / export / save ----------------------------------------------------------------------
def test_merge_equals_attached_and_unmerge_restores(tiny_mlp):
    mem = _written(tiny_mlp, epsilon=0.5)
    attached = logits(tiny_mlp.model)
    with only_enabled(tiny_mlp.memories, []):
        base = logits(tiny_mlp.model)
    assert (attached - base).abs().max() > 1e-2
    h = weights_hash(tiny_mlp.model)
    width = tiny_mlp.mlp_ffns[0].intermediate_size
    merged = merge_memory(tiny_mlp, mem)  # in place: the backbone's own FFNs grow
    assert merged is tiny_mlp.model and mem.merged
    assert {f.intermediate_size for f in tiny_mlp.mlp_ffns} == {width + 9}
    assert (logits(merged) - attached).abs().max() <= 1e-4
    unmerge_memory(tiny_mlp, mem)
    assert {f.intermediate_size for f in tiny_mlp.mlp_ffns} == {width}
    assert weights_hash(tiny_mlp.model) == h and torch.equal(logits(tiny_mlp.model), attached)
    with only_enabled(tiny_mlp.memories, []):
        assert torch.equal(logits(tiny_mlp.model), base)


def test_export_reloads_with_plain_transformers(tiny_mlp, tmp_path):
    from transformers import AutoModelForCausalLM

    mem = _written(tiny_mlp, epsilon=0.5)
    attached = logits(tiny_mlp.model)
    folder = export_merged(tiny_mlp, mem, tmp_path / "merged")
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    assert (logits(model) - attached).abs().max() <= 1e-4
    info = json.loads((folder / "locas-merge.json").read_text())["merged_from"]
    assert info["method"] == "locas-mlp"


def test_bloom_attaches_but_refuses_to_merge():
    bb = backbone_from_model(tiny_model("bloom"), name="bloom")
    mem = _written(bb)
    with pytest.raises(ValueError, match="width is fixed in code"):
        merge_memory(bb, mem)


def test_save_load_roundtrip(tiny_mlp, tmp_path):
    mem = _written(tiny_mlp, epsilon=0.5, compress="nlsvd")
    with_mem = logits(tiny_mlp.model)
    save_memory(mem, tmp_path / "book")
    detach_memory(tiny_mlp, mem)
    meta = read_memory_metadata(tmp_path / "book")
    assert meta["method"] == "locas-mlp" and meta["used"] == {"0": 9, "1": 9}
    assert meta["capacity"] == 16 and meta["config"]["compress"] == "nlsvd"
    loaded = load_memory(tiny_mlp, tmp_path / "book", name="again")
    assert isinstance(loaded, LocasMLPMemory) and loaded.used() == {0: 9, 1: 9}
    torch.testing.assert_close(loaded.layer(1).probes[:9], mem.layer(1).probes[:9],
                               atol=1e-2, rtol=1e-3)
    torch.testing.assert_close(logits(tiny_mlp.model), with_mem, atol=2e-3, rtol=1e-3)


def test_capacity_is_not_a_rank_and_old_files_with_rank_still_load(tiny_mlp, tmp_path):
    mem = _written(tiny_mlp, capacity=12)
    assert not hasattr(mem, "rank") and mem.sizes()["capacity"] == 12
    save_memory(mem, tmp_path / "old")
    detach_memory(tiny_mlp, mem)
    meta = json.loads((tmp_path / "old.json").read_text())
    assert "rank" not in meta and meta["capacity"] == 12
    # A file as an older Locas might have written it: the capacity only under "rank".
    del meta["capacity"], meta["config"]["capacity"]
    meta["rank"] = 12
    (tmp_path / "old.json").write_text(json.dumps(meta))
    loaded = load_memory(tiny_mlp, tmp_path / "old")
    assert loaded.capacity == 12 and loaded.used() == {0: 9, 1: 9}


def test_glu_files_without_a_method_field_still_load(tiny_llama, tmp_path):
    mem = attach_memory(tiny_llama, MemorySpec(rank=4), name="old")
    save_memory(mem, tmp_path / "old")
    detach_memory(tiny_llama, mem)
    meta = json.loads((tmp_path / "old.json").read_text())
    assert meta.pop("method") == "locas-glu"
    (tmp_path / "old.json").write_text(json.dumps(meta))
    assert read_memory_metadata(tmp_path / "old")["method"] == "locas-glu"
    assert load_memory(tiny_llama, tmp_path / "old").rank == 4


def test_checkpoint_resume_equals_uninterrupted(tmp_path):
    stream = token_stream(200)
    settings = TrainingSpec(chunk=40, context=20, checkpoint_every=1, lr=1e-2)

    def fresh():
        bb = backbone_from_model(tiny_model("gpt2"), name="g")
        return bb, attach_mlp_memory(bb, MLPMemoryConfig(capacity=80), name="m")

    bb, full = fresh()
    Memorizer(bb, full, settings).run(stream)
    bb, part = fresh()
    calls = iter(range(100))
    stopped = Memorizer(bb, part, settings).run(
        stream, should_stop=lambda: next(calls) >= 3, checkpoint_path=tmp_path / "ck.pt")
    assert not stopped.completed
    bb, resumed = fresh()
    Memorizer(bb, resumed, settings).run(stream, checkpoint_path=tmp_path / "ck.pt")
    assert resumed.used() == full.used() == {0: 80, 1: 80}
    for i in full.layers:
        torch.testing.assert_close(resumed.layer(i).V, full.layer(i).V)


def test_a_row_switch_runs_the_memory_in_its_rows_only(tiny_mlp):
    """`only_enabled(..., rows=...)`: one pass of two rows gives the memory-on model in the first
    and the plain model in the second (what the answer's plain-model ending reads)."""
    from locas_engine import only_enabled

    mem = _written(tiny_mlp)
    with torch.no_grad():
        with only_enabled(tiny_mlp.memories, ["m"], rows=torch.tensor([True, False])):
            both = tiny_mlp.model(input_ids=X[None].repeat(2, 1)).logits
        alone = logits(tiny_mlp.model)
        with only_enabled(tiny_mlp.memories, []):
            plain = logits(tiny_mlp.model)
    assert mem.enabled and not torch.allclose(alone, plain, atol=1e-4)
    assert torch.allclose(both[0], alone[0], atol=1e-5) and torch.allclose(both[1], plain[0], atol=1e-5)
