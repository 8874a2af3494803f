"""settings.json is checked when loaded: a bad field is named, falls back, and the app starts."""

from __future__ import annotations

import json
import logging

import pytest

from app.cli import main
from app.settings import Settings, load_settings, settings_path

DEFAULTS = Settings()


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
    assert getattr(settings, field) == getattr(DEFAULTS, field)
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
    assert settings.rank == 16 and settings.lr == 1.0 and settings.layers == "0-3,5"
    assert settings.problems == []


def test_the_command_line_says_so_and_still_runs(locas_home, capsys):
    settings_path().write_text(json.dumps({"chunk": 0}))
    assert main(["list"]) == 0
    assert main(["memories"]) == 0
    captured = capsys.readouterr()
    assert "'chunk'" in captured.err and "Traceback" not in captured.err
