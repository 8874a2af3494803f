"""The settings specs: one declaration per setting, a rank-independent output scale, flags made
from the fields, and files written before the specs (tests/data/old_format) still load."""

from __future__ import annotations

import argparse
import ast
import shutil
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
import torch

from locas_engine import Memorizer, MemorySpec, TrainingSpec, attach_memory, load_memory
from locas_engine.spec import add_flags, from_dict, migrate, tau_scales, to_dict

ROOT = Path(__file__).resolve().parents[2]
OLD = ROOT / "tests" / "data" / "old_format"
STREAM = [int(t) for t in (torch.arange(160) * 7 % 90 + 3)]  # what make_fixture.py memorized


def _old_tau(ffn, rank: int, tau_scale: float) -> float:
    """The formula before the specs: the method's mean value norm / r, times tau_scale."""
    w = ffn.down_weight().detach().float()
    return float(w.norm(dim=0).mean()) / rank * tau_scale


def test_the_output_scale_means_the_same_at_every_rank(tiny_llama):
    spec = MemorySpec(output_scale=1.0)
    wide = attach_memory(tiny_llama, spec, name="wide")  # rank 64, the default
    narrow = attach_memory(tiny_llama, MemorySpec(rank=16, output_scale=1.0), name="narrow")
    assert wide.rank == 64 and narrow.rank == 16
    assert narrow.tau() == wide.tau()  # the old tau_scale 64 gave rank 16 four times this


def test_rank_64_keeps_the_tuned_tau_bit_for_bit(tiny_llama):
    memory = attach_memory(tiny_llama, MemorySpec(rank=64, output_scale=1.0), name="m")
    for ffn in tiny_llama.ffns:
        before = torch.tensor(_old_tau(ffn, 64, 64.0)).item()  # a float32 buffer, as stored
        assert memory.tau()[ffn.index] == before


def test_an_old_tau_scale_becomes_the_same_tau_at_its_rank(tiny_llama):
    spec = from_dict(MemorySpec, {"rank": 16, "tau_scale": 64.0})
    assert spec.output_scale == 4.0
    memory = attach_memory(tiny_llama, spec, name="m")
    for ffn in tiny_llama.ffns:
        assert memory.tau()[ffn.index] == torch.tensor(_old_tau(ffn, 16, 64.0)).item()


def test_specs_are_frozen_versioned_and_checked():
    spec = MemorySpec()
    with pytest.raises(FrozenInstanceError):
        spec.rank = 8  # type: ignore[misc]
    assert to_dict(spec)["version"] == MemorySpec.VERSION
    assert from_dict(MemorySpec, to_dict(spec)) == spec
    assert from_dict(TrainingSpec, to_dict(TrainingSpec())) == TrainingSpec()
    assert migrate({"autocast": True})["precision"] == "bf16"
    for bad in ({"rank": 0}, {"init": "best"}, {"output_scale": -1.0}):
        with pytest.raises(ValueError, match=r"\w+ \w+"):
            MemorySpec(**bad)
    with pytest.raises(ValueError):
        TrainingSpec(chunk=0)
    assert MemorySpec(layers=[2, 0, 2]).layers == "0,2"


def test_the_engine_defaults_are_the_tuned_ones():
    assert TrainingSpec().lr == 6e-3 and MemorySpec().output_scale == 1.0 and MemorySpec().rank == 64


def test_flags_come_from_the_fields_and_tau_scale_still_works():
    p = argparse.ArgumentParser()
    add_flags(p, MemorySpec, MemorySpec())
    add_flags(p, TrainingSpec, TrainingSpec(), only=("lr", "chunk"))
    args = p.parse_args([])
    assert (args.rank, args.output_scale, args.lr, args.chunk) == (64, 1.0, 6e-3, 256)
    args = p.parse_args(["--rank", "16", "--tau-scale", "64", "--init", "random"])
    tau_scales(args)
    assert args.output_scale == 4.0 and args.init == "random"
    with pytest.raises(SystemExit):
        p.parse_args(["--init", "best"])  # the spec's choices
    with pytest.raises(SystemExit):
        p.parse_args(["--steps", "2"])  # not asked for
    sweep = argparse.ArgumentParser()
    add_flags(sweep, MemorySpec, MemorySpec(), many=True)
    args = sweep.parse_args(["--rank", "16", "64", "--tau-scale", "64"])
    tau_scales(args)
    assert args.output_scale == {16: [4.0], 64: [1.0]}


SETTINGS = ("lr", "output_scale", "rank", "chunk", "context", "steps")


def test_each_setting_is_declared_in_exactly_one_class():
    """lr, output scale, rank, chunk, context and steps are fields of one class in the whole
    tree (locas_engine/spec.py); every other place builds on it."""
    found: dict[str, list[str]] = {name: [] for name in SETTINGS}
    for folder in ("app", "locas_engine", "benchmarks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.ClassDef):
                    continue
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) \
                            and item.target.id in found:
                        found[item.target.id].append(f"{path.relative_to(ROOT)}:{node.name}")
    assert found == {
        "lr": ["locas_engine/spec.py:TrainingSpec"],
        "output_scale": ["locas_engine/spec.py:MemorySpec"],
        "rank": ["locas_engine/spec.py:MemorySpec"],
        "chunk": ["locas_engine/spec.py:TrainingSpec"],
        "context": ["locas_engine/spec.py:TrainingSpec"],
        "steps": ["locas_engine/spec.py:TrainingSpec"],
    }


# --- files from before the specs ---------------------------------------------------------
OLD_TRAINING = TrainingSpec(chunk=40, context=20, steps=1, lr=1e-2, checkpoint_every=1, precision="fp32")


def test_an_old_memory_file_loads_with_its_tau(tiny_llama):
    memory = load_memory(tiny_llama, OLD / "tale")
    assert memory.config == MemorySpec(rank=4, layers="0,2", output_scale=16.0 / 4)
    assert memory.layers == [0, 2]
    fresh = attach_memory(tiny_llama, memory.config, name="fresh")  # the same spec today
    assert fresh.tau() == memory.tau()  # tau_scale 16 at rank 4 is output scale 4: same tau


def test_an_old_checkpoint_resumes_as_if_never_interrupted(tiny_llama, tmp_path):
    """The old checkpoint (a stopped run over the second half) resumes with today's code, and
    ends where today's code gets memorizing the same text without a stop."""
    spec = MemorySpec(rank=4, layers=[0, 2], output_scale=4.0)
    straight = attach_memory(tiny_llama, spec, name="straight")
    Memorizer(tiny_llama, straight, OLD_TRAINING).run(STREAM[:80])
    done = Memorizer(tiny_llama, straight, OLD_TRAINING).run(STREAM[80:])

    resumed = attach_memory(tiny_llama, spec, name="resumed")
    shutil.copy(OLD / "tale.ckpt", tmp_path / "tale.ckpt")
    again = Memorizer(tiny_llama, resumed, OLD_TRAINING).run(
        STREAM[80:], checkpoint_path=tmp_path / "tale.ckpt", resume=True)
    assert again.completed and again.ppl == pytest.approx(done.ppl, rel=1e-5)
    for i in straight.layers:
        for key in ("G", "K", "V"):
            torch.testing.assert_close(getattr(resumed.layer(i), key), getattr(straight.layer(i), key))


def test_an_old_memory_saved_again_stores_each_spec_once(tiny_llama, tmp_path):
    import json

    from locas_engine import detach_memory, save_memory

    old = load_memory(tiny_llama, OLD / "tale")
    save_memory(old, tmp_path / "tale")
    detach_memory(tiny_llama, old)
    meta = json.loads((tmp_path / "tale.json").read_text())
    assert meta["format_version"] == 2 and meta["config"]["output_scale"] == 4.0
    assert "tau_scale" not in json.dumps(meta) and "rank" not in meta and "lr" not in meta
    assert meta["training"]["lr"] == 1e-2  # the first run's TrainingSpec, as it recorded it
    again = load_memory(tiny_llama, tmp_path / "tale")
    assert again.config == old.config and again.tau() == old.tau()
