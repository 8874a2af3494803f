"""Damaged memory and checkpoint files are refused with a sentence, never used.

Each test damages a file the way a bad disk, a full disk or another program would, and checks
the load raises CorruptFileError naming the file (and attaches nothing), while a sound file and
an old file saved before checksums existed still load.
"""

from __future__ import annotations

import json
import struct

import pytest
import torch
from engine_helpers import token_stream
from safetensors.torch import load_file, save_file

from locas_engine import (
    CheckpointError,
    CorruptFileError,
    Memorizer,
    MemorySpec,
    TrainingSpec,
    attach_memory,
    detach_memory,
    load_memory,
    memory_file_problem,
    save_memory,
)
from locas_engine.checkpoint import load_checkpoint, save_checkpoint

SETTINGS = TrainingSpec(chunk=40, context=20, steps=1, lr=5e-2, checkpoint_every=1)


@pytest.fixture(scope="module")
def saved_files(tmp_path_factory):
    """A trained memory's two files and a checkpoint, made once (bytes), plus the backbone."""
    from engine_helpers import tiny_model

    from locas_engine import backbone_from_model

    bb = backbone_from_model(tiny_model("llama"), name="tiny-llama")
    folder = tmp_path_factory.mktemp("saved")
    mem = attach_memory(bb, MemorySpec(rank=8), name="book")
    Memorizer(bb, mem, SETTINGS).run(token_stream(120), source="text", checkpoint_path=folder / "book.ckpt")
    save_memory(mem, folder / "book")
    detach_memory(bb, mem)
    return bb, {s: (folder / "book").with_suffix(s).read_bytes() for s in (".safetensors", ".json", ".ckpt")}


@pytest.fixture
def saved(saved_files, tmp_path):
    _, files = saved_files
    for suffix, data in files.items():
        (tmp_path / "book").with_suffix(suffix).write_bytes(data)
    return tmp_path / "book.safetensors"


@pytest.fixture
def tiny_llama(saved_files):
    bb = saved_files[0]
    yield bb
    for name in list(bb.memories):
        detach_memory(bb, name)


def _header_len(path) -> int:
    return 8 + struct.unpack("<Q", path.read_bytes()[:8])[0]


def _refused(bb, path, *words):
    with pytest.raises(CorruptFileError) as err:
        load_memory(bb, path)
    message = str(err.value)
    assert str(path.with_suffix("")) in message and "Traceback" not in message
    for w in words:
        assert w in message
    assert bb.memories == {}  # nothing half-attached
    return message


def test_sound_memory_loads_and_has_no_problem(tiny_llama, saved):
    assert memory_file_problem(saved) is None
    assert json.loads(saved.with_suffix(".json").read_text())["sha256"]
    load_memory(tiny_llama, saved)


def test_overwritten_tensor_bytes_are_refused(tiny_llama, saved):
    data = bytearray(saved.read_bytes())
    start = _header_len(saved) + 100
    data[start:start + 4096] = bytes(range(256)) * 16  # 4 KiB of other numbers
    saved.write_bytes(bytes(data))
    _refused(tiny_llama, saved, "checksum", "damaged")
    assert "checksum" in memory_file_problem(saved)


def test_nan_tensors_are_refused_even_with_a_matching_checksum(tiny_llama, saved):
    """NaN written by the save itself (or an old file without checksum) is refused too."""
    tensors = load_file(str(saved))
    tensors["layers.0.V"][0, 0] = float("nan")
    save_file(tensors, str(saved), metadata={"kind": "locas-glu-memory"})  # no checksum: old file
    meta_path = saved.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta.pop("sha256")
    meta_path.write_text(json.dumps(meta))
    _refused(tiny_llama, saved, "NaN")


def test_old_memory_without_checksum_still_loads(tiny_llama, saved):
    tensors = load_file(str(saved))
    save_file(tensors, str(saved), metadata={"kind": "locas-glu-memory"})
    meta_path = saved.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta.pop("sha256")
    meta_path.write_text(json.dumps(meta))
    assert memory_file_problem(saved) is None
    memory = load_memory(tiny_llama, saved)
    torch.testing.assert_close(memory.layer(0).V.float(), tensors["layers.0.V"].float())


@pytest.mark.parametrize("damage", ["truncated", "header", "empty"])
def test_truncated_or_header_flipped_tensor_file_is_refused(tiny_llama, saved, damage):
    data = saved.read_bytes()
    if damage == "truncated":
        saved.write_bytes(data[: len(data) // 2])
    elif damage == "header":
        saved.write_bytes(data[:8] + bytes(b ^ 0xFF for b in data[8:40]) + data[40:])
    else:
        saved.write_bytes(b"")
    _refused(tiny_llama, saved, "damaged")


def test_metadata_from_another_save_is_refused(tiny_llama, saved):
    meta_path = saved.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta["sha256"] = "0" * 64
    meta_path.write_text(json.dumps(meta))
    _refused(tiny_llama, saved, "different saves")


def test_metadata_that_disagrees_with_the_tensors_is_refused(tiny_llama, saved):
    meta_path = saved.with_suffix(".json")
    meta = json.loads(meta_path.read_text())
    meta.pop("sha256")
    meta["config"]["rank"] = 4  # tensors hold rank 8
    meta_path.write_text(json.dumps(meta))
    _refused(tiny_llama, saved, "does not describe")


@pytest.mark.parametrize("content", ["{not json", "[]", "\xff\xfe garbage"])
def test_garbage_metadata_is_refused(tiny_llama, saved, content):
    saved.with_suffix(".json").write_bytes(content.encode("latin-1"))
    message = _refused(tiny_llama, saved)
    assert "book.json" in message


def test_save_refuses_nan(tiny_llama, tmp_path):
    mem = attach_memory(tiny_llama, MemorySpec(rank=8), name="book")
    with torch.no_grad():
        mem.layer(0).V.fill_(float("inf"))
    with pytest.raises(ValueError, match="NaN or infinite"):
        save_memory(mem, tmp_path / "book")
    assert not (tmp_path / "book.safetensors").exists()


# -- checkpoints -----------------------------------------------------------------------------

def test_sound_checkpoint_roundtrips(saved):
    ckpt = saved.with_suffix(".ckpt")
    state = load_checkpoint(ckpt)
    assert state["next_chunk"] > 0 and "sha256" not in state


@pytest.mark.parametrize("damage", ["zero", "truncated", "garbage", "flipped", "nan"])
def test_damaged_checkpoint_is_refused(tiny_llama, saved, damage):
    ckpt = saved.with_suffix(".ckpt")
    data = ckpt.read_bytes()
    if damage == "zero":
        ckpt.write_bytes(b"")
    elif damage == "truncated":
        ckpt.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        ckpt.write_bytes(b"not a checkpoint at all\n" * 50)
    elif damage == "flipped":
        state = load_checkpoint(ckpt)
        state["next_chunk"] += 1  # a changed value with the old checksum
        torch.save({**state, "sha256": torch.load(ckpt, weights_only=True)["sha256"]}, ckpt)
    else:
        state = load_checkpoint(ckpt)
        next(iter(state["memory"].values())).fill_(float("nan"))
        save_checkpoint(state, ckpt)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(ckpt)
    assert str(ckpt) in str(err.value)
    # The memorizer refuses to resume from it the same way.
    bb = tiny_llama
    mem = attach_memory(bb, MemorySpec(rank=8), name="book")
    with pytest.raises(CheckpointError):
        Memorizer(bb, mem, SETTINGS).run(token_stream(120), checkpoint_path=ckpt)


CHECK_WITHOUT_TORCH = """
import json, sys
from app.memorize.recovery import memory_problem
problems = {stem: memory_problem({"name": stem, "path": stem, "status": "done"})
            for stem in sys.argv[1:]}
print(json.dumps({"problems": problems, "torch": "torch" in sys.modules}))
"""


def test_the_library_file_check_imports_no_torch(saved, tmp_path):
    """The start-up check of a memory's files (app.memorize.recovery.memory_problem) reads the digest,
    the layout and NaN / Inf from the bytes: sound, overwritten, NaN and truncated files are
    told apart in a process that never imports torch."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    stems = {}
    for kind in ("sound", "overwritten", "nan", "truncated"):
        folder = tmp_path / kind
        folder.mkdir()
        for suffix in (".safetensors", ".json"):
            (folder / "book").with_suffix(suffix).write_bytes(saved.with_suffix(suffix).read_bytes())
        stems[kind] = folder / "book"
    data = bytearray(stems["overwritten"].with_suffix(".safetensors").read_bytes())
    start = _header_len(saved) + 100
    data[start:start + 4096] = bytes(range(256)) * 16
    stems["overwritten"].with_suffix(".safetensors").write_bytes(bytes(data))
    tensors = load_file(str(saved))
    tensors["layers.0.V"][0, 0] = float("inf")
    save_file(tensors, str(stems["nan"].with_suffix(".safetensors")))  # no checksum: an old file
    meta = json.loads(saved.with_suffix(".json").read_text())
    meta.pop("sha256")
    stems["nan"].with_suffix(".json").write_text(json.dumps(meta))
    whole = saved.read_bytes()
    stems["truncated"].with_suffix(".safetensors").write_bytes(whole[: len(whole) // 2])

    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run([sys.executable, "-c", CHECK_WITHOUT_TORCH, *map(str, stems.values())],
                            cwd=repo, env={**os.environ, "PYTHONPATH": str(repo)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    problems = {kind: out["problems"][str(stem)] for kind, stem in stems.items()}
    assert problems["sound"] is None  # the digest over raw bytes equals the one torch wrote
    assert "checksum" in problems["overwritten"]
    assert "NaN or infinite" in problems["nan"] and "layers.0.V" in problems["nan"]
    assert "truncated" in problems["truncated"]
    assert out["torch"] is False
