"""Issue 14: precision chosen per machine and recorded, fused AdamW (the speed benchmark:
tests/app/test_bench_speed.py)."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import token_stream

from locas_engine import Memorizer, MemorySpec, TrainingSpec, attach_memory, detach_memory
from locas_engine import precision as precision_mod
from locas_engine.memorizer import fused_adamw
from locas_engine.precision import _cpuinfo_flags, resolve_precision


def test_cpu_bf16_is_read_from_the_cpu_flags(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16\n\n"
                    "processor\t: 1\nflags\t\t: fpu sse avx512f avx512_bf16\n")
    assert "avx512_bf16" in _cpuinfo_flags(info)
    assert _cpuinfo_flags(tmp_path / "missing") == set()


def test_auto_precision_follows_the_measurements(monkeypatch):
    monkeypatch.setattr(precision_mod, "_cpu_native_bf16", lambda: True)
    assert precision_mod.native_bf16("cpu")  # detected and reported ...
    assert resolve_precision("auto", "cpu") == "bf16"  # ... and used: it memorized 1.5x faster
    monkeypatch.setattr(precision_mod, "_cpu_native_bf16", lambda: False)
    assert not precision_mod.native_bf16("cpu")
    assert resolve_precision("auto", "cpu") == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16"  # an explicit choice is kept
    # Memories made before precision was recorded ran fp32 on a CPU, bf16 on CUDA.
    assert resolve_precision(None, "cpu") == "fp32"
    assert resolve_precision(None, "cuda") == "bf16"
    with pytest.raises(ValueError, match="not one of"):
        resolve_precision("fp8", "cpu")


def test_memory_and_checkpoint_record_the_precision(tiny_llama, tmp_path):
    bb, ids, ckpt = tiny_llama, token_stream(200), tmp_path / "m.ckpt"
    mem = attach_memory(bb, MemorySpec(rank=8), name="bf16")
    stops = iter([False] * 3 + [True])
    settings = TrainingSpec(chunk=40, context=40, checkpoint_every=1, precision="bf16")
    result = Memorizer(bb, mem, settings).run(ids, checkpoint_path=ckpt, should_stop=lambda: next(stops))
    assert not result.completed
    assert torch.load(ckpt, weights_only=True)["settings"]["precision"] == "bf16"
    detach_memory(bb, mem)
    # Resuming with other arithmetic would not give the memory an uninterrupted run gives.
    other = attach_memory(bb, MemorySpec(rank=8), name="fp32")
    with pytest.raises(ValueError, match="precision"):
        Memorizer(bb, other, TrainingSpec(chunk=40, context=40, precision="fp32")).run(
            ids, checkpoint_path=ckpt)
    same = Memorizer(bb, other, settings).run(ids, checkpoint_path=ckpt)
    assert same.completed and other.training_info["precision"] == "bf16"
    assert all(torch.isfinite(p).all() for p in other.parameters())


def test_auto_precision_follows_the_weights_however_the_engine_is_called(tmp_path):
    """The app resolves ``auto`` to bf16 on a CPU with native bf16 and loads bf16 weights; the
    engine called directly with ``auto`` and such a model must train and record bf16 as well."""
    from engine_helpers import tiny_model

    from locas_engine import backbone_from_model

    assert TrainingSpec(precision="auto").precision_on("cpu") == "fp32"
    assert TrainingSpec(precision="auto").precision_on("cpu", weights_bf16=True) == "bf16"
    assert TrainingSpec(precision="auto").precision_on("cuda") == "bf16"
    assert TrainingSpec(precision="fp32").precision_on("cuda", weights_bf16=True) == "fp32"  # a choice is kept
    bb = backbone_from_model(tiny_model("llama").to(torch.bfloat16), name="tiny-bf16")
    mem = attach_memory(bb, MemorySpec(rank=8), name="auto")
    Memorizer(bb, mem, TrainingSpec(chunk=40, context=40, precision="auto")).run(token_stream(120))
    assert mem.training_info["precision"] == "bf16"


def test_checkpoint_without_precision_resumes_as_fp32_on_cpu(tiny_llama, tmp_path):
    """A checkpoint written before precision was recorded resumes bit for bit on a CPU."""
    bb, ids = tiny_llama, token_stream(200, seed=3)
    settings = TrainingSpec(chunk=40, context=40, checkpoint_every=1)
    full = attach_memory(bb, MemorySpec(rank=8), name="full")
    Memorizer(bb, full, settings).run(ids)
    detach_memory(bb, full)
    ckpt = tmp_path / "old.ckpt"
    part = attach_memory(bb, MemorySpec(rank=8), name="part")
    stops = iter([False] * 2 + [True])
    Memorizer(bb, part, settings).run(ids, checkpoint_path=ckpt, should_stop=lambda: next(stops))
    detach_memory(bb, part)
    state = torch.load(ckpt, weights_only=True)
    del state["settings"]["precision"]  # as an older version wrote it: no precision and
    state.pop("sha256", None)  # no checksum (both are newer than this kind of checkpoint)
    torch.save(state, ckpt)
    resumed = attach_memory(bb, MemorySpec(rank=8), name="resumed")
    assert Memorizer(bb, resumed, settings).run(ids, checkpoint_path=ckpt).completed
    for i in resumed.layers:
        for p in ("G", "K", "V"):
            assert torch.equal(getattr(resumed.layer(i), p), getattr(full.layer(i), p)), (i, p)


def test_adamw_uses_one_fused_kernel_for_cpu_tensors():
    params = [torch.nn.Parameter(torch.zeros(3)) for _ in range(4)]
    assert fused_adamw(params) == {"fused": True}
    halves = [torch.nn.Parameter(torch.zeros(3, dtype=torch.float16))]
    assert fused_adamw(halves) == {"foreach": True}
