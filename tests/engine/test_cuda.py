"""The CUDA path: bf16 weights, bf16 autocast, memory tensors that stay on the GPU.

Skipped where no GPU is present (CI has none); run on a GPU machine with
``python -m pytest tests/engine/test_cuda.py``. These catch what CPU tests cannot: a tensor
left on the CPU, a dtype clash between the bf16 backbone and the fp32 memory, a checkpoint or
memory file that cannot be read back on the other device.
"""

from __future__ import annotations

import pytest
import torch
from engine_helpers import tiny_model, token_stream, weights_hash

from locas_engine import (
    Memorizer,
    MemorySpec,
    TrainingSpec,
    attach_memory,
    backbone_from_model,
    detach_memory,
    load_memory,
    merged,
    only_enabled,
    save_memory,
)

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@pytest.fixture
def cuda_llama():
    model = tiny_model("llama").to("cuda", torch.bfloat16)
    return backbone_from_model(model, name="tiny-llama-cuda")


def _logits(bb, ids: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return bb.model(ids.to(bb.device)[None]).logits.float()


def test_backbone_is_bf16_on_cuda(cuda_llama):
    assert cuda_llama.device.type == "cuda"
    assert cuda_llama.dtype == torch.bfloat16


@pytest.mark.parametrize("arch", ["llama", "qwen3", "gemma", "phi3"])
def test_memorize_on_cuda_keeps_every_tensor_on_the_gpu(arch):
    bb = backbone_from_model(tiny_model(arch).to("cuda", torch.bfloat16), name=f"tiny-{arch}")
    mem = attach_memory(bb, MemorySpec(rank=8, output_scale=2), name="m")
    result = Memorizer(bb, mem, TrainingSpec(chunk=32, context=32, lr=1e-2)).run(
        token_stream(256))
    assert result.completed and result.tokens_done == 256
    assert torch.isfinite(torch.tensor(result.ppl))
    for name, p in mem.named_parameters():
        assert p.device.type == "cuda", name
        assert torch.isfinite(p).all(), name
    # The memory learned something: it is initialized and its output changes the logits.
    ids = token_stream(64, seed=3)
    on = _logits(bb, ids)
    with only_enabled(bb.memories, []):
        off = _logits(bb, ids)
    assert not torch.allclose(on, off)


def test_memorizing_lowers_loss_on_cuda(cuda_llama):
    """Two passes over the same short stream: the second pass scores it better (bf16 autocast)."""
    bb = cuda_llama
    mem = attach_memory(bb, MemorySpec(rank=16, output_scale=1), name="m")
    stream = token_stream(192, seed=5)
    settings = TrainingSpec(chunk=64, context=64, lr=1e-2)
    first = Memorizer(bb, mem, settings).run(stream).ppl
    second = Memorizer(bb, mem, settings).run(stream).ppl
    assert second < first


def test_detach_restores_the_cuda_model_exactly(cuda_llama):
    bb = cuda_llama
    before = weights_hash(bb.model)
    ids = token_stream(48, seed=2)
    base = _logits(bb, ids)
    mem = attach_memory(bb, MemorySpec(rank=8, output_scale=2), name="m")
    Memorizer(bb, mem, TrainingSpec(chunk=16, context=16, lr=1e-2)).run(token_stream(64))
    detach_memory(bb, mem)
    assert weights_hash(bb.model) == before
    assert torch.equal(_logits(bb, ids), base)


def test_memory_saved_on_cuda_loads_on_cpu_and_back(cuda_llama, tmp_path):
    bb = cuda_llama
    mem = attach_memory(bb, MemorySpec(rank=8, output_scale=2), name="m")
    Memorizer(bb, mem, TrainingSpec(chunk=32, context=32, lr=1e-2)).run(token_stream(128))
    path = save_memory(mem, tmp_path / "book")
    ids = token_stream(48, seed=4)
    on_gpu = _logits(bb, ids)
    detach_memory(bb, mem)

    cpu_bb = backbone_from_model(tiny_model("llama"), name="tiny-llama-cuda")
    cpu_mem = load_memory(cpu_bb, path)
    assert all(p.device.type == "cpu" for p in cpu_mem.parameters())

    again = load_memory(bb, path)
    assert all(p.device.type == "cuda" for p in again.parameters())
    # fp16 storage: the reloaded memory gives the same logits up to bf16 rounding.
    torch.testing.assert_close(_logits(bb, ids), on_gpu, atol=0.1, rtol=0.05)


def test_checkpoint_resume_on_cuda(cuda_llama, tmp_path):
    bb = cuda_llama
    stream = token_stream(256, seed=6)
    settings = TrainingSpec(chunk=32, context=32, lr=1e-2, checkpoint_every=2)
    mem = attach_memory(bb, MemorySpec(rank=8, output_scale=2), name="m")
    calls = {"n": 0}

    def stop_after_three() -> bool:
        calls["n"] += 1
        return calls["n"] > 3

    ckpt = tmp_path / "m.ckpt"
    first = Memorizer(bb, mem, settings).run(stream, should_stop=stop_after_three,
                                            checkpoint_path=ckpt)
    assert not first.completed and ckpt.exists()
    resumed = Memorizer(bb, mem, settings).run(stream, checkpoint_path=ckpt, resume=True)
    assert resumed.completed and resumed.tokens_done == 256
    assert all(p.device.type == "cuda" for p in mem.parameters())


def test_merge_on_cuda_matches_the_attached_memory(cuda_llama):
    bb = cuda_llama
    mem = attach_memory(bb, MemorySpec(rank=8, output_scale=2), name="m")
    Memorizer(bb, mem, TrainingSpec(chunk=32, context=32, lr=1e-2)).run(token_stream(96))
    ids = token_stream(40, seed=7)
    with_memory = _logits(bb, ids)
    with merged(bb, mem) as model, torch.no_grad():
        assert next(model.parameters()).device.type == "cuda"
        merged_logits = model(ids.to("cuda")[None]).logits.float()
    torch.testing.assert_close(merged_logits, with_memory, atol=0.15, rtol=0.05)
