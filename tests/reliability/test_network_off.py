"""No network at run time, even without HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE set: loading a model
folder and answering from it never opens a connection or resolves a host name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import socket, sys
attempts = []
def refuse(*args, **kwargs):
    attempts.append(args[:1])
    raise OSError("network blocked by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse
from locas_engine import load_backbone, stream_generate
bb = load_backbone(sys.argv[1], device="cpu")
text = "".join(stream_generate(bb, [{"role": "user", "content": "hello there"}], max_new_tokens=3))
print("ATTEMPTS", len(attempts))
"""


def _model_folder(folder: Path) -> Path:
    """A tiny random model with a word-level tokenizer, saved as a Hugging Face folder."""
    from engine_helpers import VOCAB, tiny_model
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, **{f"w{i}": i for i in range(4, VOCAB)}}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", pad_token="<pad>",
                                   bos_token="<s>", eos_token="</s>")
    tiny_model("llama").save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


@pytest.mark.slow  # a subprocess that imports torch and transformers
def test_loading_and_answering_open_no_connection(tmp_path):
    folder = _model_folder(tmp_path / "model")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(folder)], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ATTEMPTS 0" in done.stdout, done.stdout + done.stderr[-2000:]
