"""Commands that need no model start without torch or transformers (seconds on a quiet machine),
and loading a model prints no transformers progress bar."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

CHECK = """
import json, sys
from app.cli import main
for args in json.loads(sys.argv[1]):
    try:
        status = main(args)
    except SystemExit as exc:
        status = exc.code
    heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
    print("RESULT " + json.dumps({"args": args, "status": status, "heavy": heavy}), flush=True)
"""


def test_model_free_commands_do_not_import_torch(locas_home, story_file):
    """One process runs the commands in turn, checking sys.modules after each (one start-up)."""
    commands = [
        ["--help"], ["import", str(story_file)], ["list"], ["search", '"lighthouse keeper"'],
        ["memories"], ["memory", "--help"], ["bench", "--help"], ["remove", "1"],
    ]
    env = {**os.environ, "LOCAS_HOME": str(locas_home), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", CHECK, json.dumps(commands)], cwd=REPO, env=env,
                            capture_output=True, text=True, timeout=300)
    outcomes = [json.loads(x[len("RESULT "):]) for x in result.stdout.splitlines() if x.startswith("RESULT ")]
    assert len(outcomes) == len(commands), result.stdout + result.stderr
    for outcome in outcomes:
        assert outcome["status"] in (0, None), outcome
        assert outcome["heavy"] == [], f"'locas {' '.join(outcome['args'])}' imported {outcome['heavy']}"


def test_loading_a_model_prints_no_progress_bar(tmp_path, monkeypatch, capfd):
    import torch
    import transformers as tf

    from locas_engine import load_backbone

    config = tf.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                            num_attention_heads=2, num_key_value_heads=1)
    tf.AutoModelForCausalLM.from_config(config, dtype=torch.float32).save_pretrained(tmp_path / "tiny")
    monkeypatch.setattr(tf.AutoTokenizer, "from_pretrained", classmethod(lambda cls, *a, **k: object()))
    from transformers.utils import logging as hf_logging

    bars_before = hf_logging.is_progress_bar_enabled()
    capfd.readouterr()
    backbone = load_backbone(tmp_path / "tiny", device="cpu")
    assert backbone.num_layers == 1
    err = capfd.readouterr().err
    assert "Loading weights" not in err, err
    assert hf_logging.is_progress_bar_enabled() == bars_before  # left as it was for anyone else


@pytest.mark.parametrize("name", ["ppl", "qa", "gui-stall", "tables"])
def test_a_benchmark_still_parses_its_own_flags(name, capsys):
    from app.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["bench", name, "--help"])
    assert exc.value.code == 0
    assert f"usage: locas bench {name}" in capsys.readouterr().out
