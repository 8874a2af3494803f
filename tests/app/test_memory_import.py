"""`locas memory import FILE`: an exported memory comes back, checked against the model.

The model is a tiny random one standing in for the configured model (Session.backbone is
patched), so these run in the fast tier; the import path, the library rows and the files are
the real ones.
"""

from __future__ import annotations

import pytest
import torch
import transformers as tf

from app.cli import main
from app.library import Library
from app.paths import memories_dir
from app.session import Session
from locas_engine import (
    MemorySpec,
    attach_memory,
    backbone_from_model,
    detach_memory,
    save_memory,
)


def _tiny(seed: int):
    torch.manual_seed(seed)
    cfg = tf.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2)
    return backbone_from_model(tf.LlamaForCausalLM(cfg), name=f"tiny-{seed}")


@pytest.fixture
def models(monkeypatch):
    """The model 'in the settings' (mine) and another one (theirs)."""
    mine, theirs = _tiny(0), _tiny(1)
    monkeypatch.setattr(Session, "backbone", lambda self: mine)
    return mine, theirs


def _exported(bb, folder, name="moby") -> str:
    memory = attach_memory(bb, MemorySpec(rank=4), name=name)
    memory.initialized = True
    memory.sources = [{"name": "moby-dick", "tokens": 1234}]
    memory.curve = [(1234, 17.5)]
    path = save_memory(memory, folder / name)
    detach_memory(bb, memory)
    return str(path)


def test_import_adds_the_memory_and_it_answers_on_this_model(models, tmp_path, capsys):
    mine, _ = models
    exported = _exported(mine, tmp_path / "export")
    assert main(["memory", "import", exported]) == 0
    assert "Imported memory 'moby' (1,234 tokens)" in capsys.readouterr().out
    row = Library().get_memory("moby")
    assert row["status"] == "done" and row["tokens_done"] == 1234 and row["ppl"] == 17.5
    assert row["backbone_fingerprint"] == mine.fingerprint
    session = Session()
    memory = session.memory("moby")  # loads from the data folder copy, not the export
    assert memory.rank == 4 and "moby" in mine.memories
    assert str(memories_dir()) in row["path"]
    # The same file again: the name is taken, so it says how to import under another name.
    assert main(["memory", "import", exported.replace(".safetensors", ".json")]) == 1
    assert "--name" in capsys.readouterr().err
    assert main(["memory", "import", str(tmp_path / "export"), "--name", "moby 2"]) == 0
    assert Library().get_memory("moby 2")["status"] == "done"


def test_a_memory_for_another_model_is_refused_and_nothing_changes(models, tmp_path, capsys):
    _, theirs = models
    exported = _exported(theirs, tmp_path / "export")
    assert main(["memory", "import", exported]) == 1
    err = capsys.readouterr().err
    assert "was made for the model 'tiny-1'" in err and "Nothing was changed" in err
    assert Library().list_memories() == []
    assert list(memories_dir().iterdir()) == []


def test_missing_or_foreign_files_are_sentences(models, tmp_path, capsys):
    assert main(["memory", "import", str(tmp_path / "nothing.safetensors")]) == 1
    assert "There is no memory at" in capsys.readouterr().err
    (tmp_path / "x.safetensors").write_bytes(b"junk")
    (tmp_path / "x.json").write_text('{"hello": 1}')
    assert main(["memory", "import", str(tmp_path / "x.json")]) == 1
    assert "is not a Locas memory file" in capsys.readouterr().err
    assert Library().list_memories() == []
