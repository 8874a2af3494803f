"""Saving / loading memories, refusing foreign backbones, merging and exporting."""

from __future__ import annotations

import json

import pytest
import torch
from engine_helpers import logits, tiny_model, token_stream, weights_hash

from locas_engine import (
    Memorizer,
    MemoryMismatchError,
    MemorySpec,
    TrainingSpec,
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


def _trained(bb, layers=None, rank=8):
    mem = attach_memory(bb, MemorySpec(rank=rank, layers=layers), name="book")
    Memorizer(bb, mem, TrainingSpec(chunk=40, context=20, steps=2, lr=5e-2)).run(
        token_stream(160), source="phrase")
    return mem


def test_save_load_roundtrip(tiny_llama, tmp_path):
    bb = tiny_llama
    mem = _trained(bb)
    with_mem = logits(bb.model)
    path = save_memory(mem, tmp_path / "book", extra_metadata={"note": "hi"})
    assert path.name == "book.safetensors" and (tmp_path / "book.json").exists()
    detach_memory(bb, mem)
    meta = read_memory_metadata(tmp_path / "book")
    assert meta["format_version"] == 2 and meta["config"]["rank"] == 8 and meta["layers"] == [0, 1, 2]
    assert meta["backbone"]["fingerprint"] == bb.fingerprint
    assert meta["sources"] == [{"name": "phrase", "tokens": 160}]
    training = meta["training"]  # each spec once: no lr, rank or chunking beside them
    assert training["lr"] == 5e-2 and (training["chunk"], training["context"], training["steps"]) == (40, 20, 2)
    assert not {"rank", "lr", "chunking", "initializer"} & set(meta)
    assert len(meta["ppl_curve"]) == 4 and meta["config"]["init"] == "topk"
    assert meta["config"]["version"] == 1 and meta["training"]["version"] == 1
    assert set(meta["tau"]) == {"0", "1", "2"} and meta["extra"] == {"note": "hi"}
    assert meta["created"] and meta["updated"]
    loaded = load_memory(bb, tmp_path / "book.safetensors", name="again")
    assert loaded.name == "again" and loaded.initialized
    assert loaded.sources == mem.sources
    for i in mem.layers:
        torch.testing.assert_close(loaded.layer(i).V, mem.layer(i).V, atol=1e-3, rtol=1e-3)
        assert loaded.layer(i).tau == mem.layer(i).tau
    torch.testing.assert_close(logits(bb.model), with_mem, atol=1e-3, rtol=1e-3)


def test_loading_onto_another_backbone_is_refused(tiny_llama, tmp_path):
    mem = _trained(tiny_llama)
    save_memory(mem, tmp_path / "book")
    other = backbone_from_model(tiny_model("llama", seed=7), name="other-llama")
    with pytest.raises(MemoryMismatchError, match="made for the model 'tiny-llama'"):
        load_memory(other, tmp_path / "book")
    assert other.memories == {}


def test_newer_format_is_refused(tiny_llama, tmp_path):
    mem = _trained(tiny_llama)
    save_memory(mem, tmp_path / "book")
    meta = json.loads((tmp_path / "book.json").read_text())
    meta["format_version"] = 99
    (tmp_path / "book.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="newer Locas"):
        read_memory_metadata(tmp_path / "book")


def _randomize(mem, seed=1):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in mem.per_layer.values():
            for p in (m.G, m.K, m.V):
                p.copy_(torch.randn(p.shape, generator=g))
            m.tau.fill_(0.3)
    mem.clip_()


def _memory_on_layers_0_and_2(bb):
    """A random memory on layers 0 and 2, with the logits it gives and the base model's."""
    mem = attach_memory(bb, MemorySpec(rank=8, layers=[0, 2]), name="m")
    _randomize(mem)
    attached = logits(bb.model)
    with only_enabled(bb.memories, []):
        base = logits(bb.model)
    assert (attached - base).abs().max() > 1e-3
    return mem, attached, base


def test_merge_equals_attached(tiny):
    mem, attached, _ = _memory_on_layers_0_and_2(tiny)
    merged = merge_memory(tiny, mem)
    assert merged is tiny.model  # in place: no copy of the model
    assert merged.config.intermediate_size == 48 + 8
    assert {f.intermediate_size for f in tiny.ffns} == {48 + 8}
    assert (logits(merged) - attached).abs().max() <= 1e-4


def test_unmerge_gives_the_base_back(tiny):
    """Unmerge restores the backbone's weights bit for bit and the memory acts again."""
    mem, attached, base = _memory_on_layers_0_and_2(tiny)
    h = weights_hash(tiny.model)
    merge_memory(tiny, mem)
    with pytest.raises(ValueError, match="merged already"):
        merge_memory(tiny, mem)
    with pytest.raises(ValueError, match="unmerge it"):
        detach_memory(tiny, mem)
    unmerge_memory(tiny, mem)
    assert not mem.merged and tiny.model.config.intermediate_size == 48
    assert weights_hash(tiny.model) == h
    assert torch.equal(logits(tiny.model), attached)
    with only_enabled(tiny.memories, []):
        torch.testing.assert_close(logits(tiny.model), base, atol=0, rtol=0)


def test_merge_keeps_other_memories_working(tiny_llama):
    """A second memory stays attached through a merge and an export of the first."""
    a = attach_memory(tiny_llama, MemorySpec(rank=4), name="a")
    b = attach_memory(tiny_llama, MemorySpec(rank=4, layers=[1]), name="b")
    _randomize(a, seed=1)
    _randomize(b, seed=2)
    both = logits(tiny_llama.model)
    with only_enabled(tiny_llama.memories, ["a"]):
        only_a = logits(tiny_llama.model)
    assert (both - only_a).abs().max() > 1e-3
    merge_memory(tiny_llama, a)
    assert (logits(tiny_llama.model) - both).abs().max() <= 1e-4  # a in the weights, b on top
    with only_enabled(tiny_llama.memories, []):  # b off; a is in the weights now
        assert (logits(tiny_llama.model) - only_a).abs().max() <= 1e-4
    unmerge_memory(tiny_llama, a)
    assert torch.equal(logits(tiny_llama.model), both)


def test_export_reloads_with_plain_transformers(tiny, tmp_path):
    from transformers import AutoModelForCausalLM

    mem = attach_memory(tiny, MemorySpec(rank=4), name="m")
    _randomize(mem)
    attached = logits(tiny.model)
    keys = list(tiny.model.state_dict())
    tiny.model.config._model_name_or_path = "Smollm2 135M 8k Lc100K Mix1 Ep2"  # a GGUF's general.name
    folder = export_merged(tiny, mem, tmp_path / "merged")
    assert "_model_name_or_path" not in json.loads((folder / "config.json").read_text())
    assert tiny.model.config._model_name_or_path.startswith("Smollm2")  # the backbone keeps it
    # The backbone is left as it was: unmerged, memory still attached and working.
    assert tiny.model.config.intermediate_size == 48 and not mem.merged
    assert list(tiny.model.state_dict()) == keys and torch.equal(logits(tiny.model), attached)
    model = AutoModelForCausalLM.from_pretrained(folder, local_files_only=True, dtype=torch.float32)
    assert model.config.intermediate_size == 48 + 4
    assert (logits(model) - attached).abs().max() <= 1e-4
    assert json.loads((folder / "locas-merge.json").read_text())["merged_from"]["rank"] == 4
