"""settings.json is checked when loaded: a bad field is named, falls back, and the app starts."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from app.cli import main
from app.settings import Settings, load_settings, settings_path
from locas_engine.spec import flat

DEFAULTS = Settings()
OLD_SETTINGS = Path(__file__).resolve().parents[1] / "data" / "old_format" / "settings.json"


def field_value(settings: Settings, field: str):
    """A field by name, whether the app's own or one of its specs'."""
    values = flat(*settings.specs)
    return values[field] if field in values else getattr(settings, field)


@pytest.mark.parametrize("content", ["[]", "null", '"a string"', "{not json", "\xff\xfe"])
def test_settings_that_are_not_an_object_fall_back_to_defaults(locas_home, content, caplog):
    settings_path().write_bytes(content.encode("latin-1"))
    with caplog.at_level(logging.WARNING):
        settings = load_settings()
    assert settings == DEFAULTS
    assert settings.problems and str(settings_path()) in settings.problems[0]
    assert "default" in settings.problems[0]


@pytest.mark.parametrize("field,value", [
    ("chunk", 0), ("rank", 0), ("checkpoint_every", 0), ("steps", -1), ("lr", -1.0),
    ("rank", "64"), ("rank", True), ("use_memory", 1), ("init", "best"), ("layers", "some"),
    ("device", "tpu"), ("model", " "),
])
def test_a_bad_field_is_named_and_falls_back_alone(locas_home, field, value):
    settings_path().write_text(json.dumps({field: value, "passages": 7}))
    settings = load_settings()
    assert field_value(settings, field) == field_value(DEFAULTS, field)
    assert settings.passages == 7  # the good field is kept
    [problem] = settings.problems
    assert f"'{field}'" in problem and str(settings_path()) in problem and "default" in problem


def test_cuda_without_cuda_falls_back(locas_home):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    settings_path().write_text(json.dumps({"device": "cuda"}))
    settings = load_settings()
    assert settings.device == "auto" and "'device'" in settings.problems[0]


def test_good_settings_have_no_problems(locas_home):
    settings_path().write_text(json.dumps({"rank": 16, "lr": 1, "layers": "0-3,5", "device": "cpu"}))
    settings = load_settings()
    assert settings.memory.rank == 16 and settings.training.lr == 1.0 and settings.memory.layers == "0-3,5"
    assert settings.problems == []


def test_an_old_flat_settings_file_loads_and_is_saved_as_specs(locas_home):
    """A settings.json from before the specs (flat, tau_scale) keeps every value, the output
    scale converted at its rank; saving writes each spec once, with its version."""
    from app.settings import save_settings

    shutil.copy(OLD_SETTINGS, settings_path())
    settings = load_settings()
    assert settings.problems == []
    assert (settings.memory.rank, settings.memory.output_scale) == (8, 2.0 / 8)  # tau_scale 2 at rank 8
    assert (settings.training.chunk, settings.training.context, settings.training.steps) == (128, 64, 2)
    assert settings.passages == 3
    save_settings(settings)
    saved = json.loads(settings_path().read_text())
    assert saved["memory"]["output_scale"] == 0.25 and saved["memory"]["version"] == 1
    assert "tau_scale" not in json.dumps(saved) and "rank" not in saved
    assert load_settings() == settings


def test_the_old_default_tau_scale_becomes_the_default_at_any_rank(locas_home):
    """64 was the untouched default: at rank 16 it meant four times the tuned scale by accident."""
    settings_path().write_text(json.dumps({"rank": 16, "tau_scale": 64.0}))
    settings = load_settings()
    assert settings.memory.output_scale == DEFAULTS.memory.output_scale and settings.problems == []


def test_the_command_line_says_so_and_still_runs(locas_home, capsys):
    settings_path().write_text(json.dumps({"chunk": 0}))
    assert main(["list"]) == 0
    assert main(["memories"]) == 0
    captured = capsys.readouterr()
    assert "'chunk'" in captured.err and "Traceback" not in captured.err
