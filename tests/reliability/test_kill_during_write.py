"""kill -9 in the middle of an atomic write (a checkpoint, a memory) loses at most one checkpoint
interval, and resuming ends exactly where an uninterrupted run ends.

A subprocess memorizes with a tiny model; its os.replace blocks at a chosen write, after the
temp file is complete and before the rename, which is the one moment a crash could tear a file.
The test SIGKILLs it there, then resumes in this process and compares with a run never killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from engine_helpers import token_stream

from app.memorize.recovery import remove_temp_files
from locas_engine import (
    Memorizer,
    MemorySpec,
    TrainingSpec,
    attach_memory,
    detach_memory,
    load_memory,
    memory_file_problem,
    read_memory_metadata,
    save_memory,
)
from locas_engine.atomic import temp_files
from locas_engine.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]
SETTINGS = TrainingSpec(chunk=32, context=16, steps=1, lr=1e-2, checkpoint_every=1)
CONFIG = dict(rank=4)

SCRIPT = r"""
import os, sys, time
from pathlib import Path
mode, folder, at = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
real, calls = os.replace, [0]
def blocking_replace(src, dst):
    if Path(dst).suffix == (".ckpt" if mode == "ckpt" else ".safetensors"):
        calls[0] += 1
        if calls[0] == at:
            (folder / "at-kill").write_text(str(at))
            time.sleep(600)
    return real(src, dst)
os.replace = blocking_replace
from engine_helpers import tiny_model, token_stream
from locas_engine import backbone_from_model, attach_memory, MemorySpec, Memorizer, TrainingSpec, save_memory
bb = backbone_from_model(tiny_model("llama"), name="tiny-llama")
mem = attach_memory(bb, MemorySpec(rank=4), name="m")
s = TrainingSpec(chunk=32, context=16, steps=1, lr=1e-2, checkpoint_every=1)
for n, seed in ((160, 1), (96, 2)):
    Memorizer(bb, mem, s).run(token_stream(n, seed=seed), checkpoint_path=folder / "m.ckpt", source=str(seed))
    save_memory(mem, folder / "m")
    (folder / "m.ckpt").unlink()  # as the job does once a document is saved
"""


def _killed_at(mode: str, at: int, folder: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests" / "engine")])}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, mode, str(folder), str(at)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not (folder / "at-kill").exists():
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode()[-2000:])
        assert time.monotonic() < deadline, "the subprocess never reached the write"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def _uninterrupted(bb, docs):
    mem = attach_memory(bb, MemorySpec(**CONFIG), name="reference")
    for n, seed in docs:
        Memorizer(bb, mem, SETTINGS).run(token_stream(n, seed=seed), source=str(seed))
    state = {k: v.clone() for k, v in mem.state_dict().items()}
    detach_memory(bb, mem)
    return state


def _assert_same(state, memory):
    for key, value in memory.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=1e-6)


@pytest.mark.slow  # a subprocess that imports torch: ~10 s alone, too much for the fast tier
def test_kill_during_a_checkpoint_write(tiny_backbone, tmp_path):
    bb = tiny_backbone
    _killed_at("ckpt", 3, tmp_path)  # the third checkpoint's rename never happens
    ckpt = tmp_path / "m.ckpt"
    assert temp_files(ckpt), "the torn write left its temp file"
    assert load_checkpoint(ckpt)["next_chunk"] == 2  # one chunk (one checkpoint interval) lost
    mem = attach_memory(bb, MemorySpec(**CONFIG), name="m")
    result = Memorizer(bb, mem, SETTINGS).run(token_stream(160, seed=1), checkpoint_path=ckpt, source="1")
    assert result.completed
    _assert_same(_uninterrupted(bb, [(160, 1)]), mem)
    detach_memory(bb, mem)


@pytest.mark.slow  # as above
def test_kill_during_a_memory_save_keeps_the_last_save(tiny_backbone, tmp_path):
    bb = tiny_backbone
    _killed_at("memory", 2, tmp_path)  # the second document's save is torn
    assert memory_file_problem(tmp_path / "m") is None  # the first save is whole and verified
    assert [s["name"] for s in read_memory_metadata(tmp_path / "m")["sources"]] == ["1"]
    leftovers = temp_files(tmp_path / "m.safetensors")
    assert leftovers
    remove_temp_files(tmp_path / "m")
    assert not any(p.exists() for p in leftovers)
    # Resume as the job does: the last save, then the second document from its checkpoint.
    mem = load_memory(bb, tmp_path / "m", name="m")
    result = Memorizer(bb, mem, SETTINGS).run(token_stream(96, seed=2), checkpoint_path=tmp_path / "m.ckpt",
                                             source="2")
    assert result.completed
    save_memory(mem, tmp_path / "m")
    detach_memory(bb, mem)
    loaded = load_memory(bb, tmp_path / "m", name="m")
    reference = _uninterrupted(bb, [(160, 1), (96, 2)])
    for key, value in loaded.state_dict().items():  # the file holds fp16 (tau: fp32)
        expected = reference[key] if key.endswith("tau") else reference[key].half().float()
        torch.testing.assert_close(value, expected, rtol=0, atol=1e-6)
    detach_memory(bb, loaded)


@pytest.fixture(autouse=True)
def _no_memories_left(tiny_backbone):
    yield
    for name in list(tiny_backbone.memories):
        detach_memory(tiny_backbone, name)
