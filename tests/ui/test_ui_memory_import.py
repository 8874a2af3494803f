"""File > Import Memory File…: an exported memory joins the picker; one for another model is
refused with a sentence and the library does not change."""

from __future__ import annotations

import pytest
import torch
import transformers as tf
from PySide6.QtWidgets import QFileDialog

from app.session import Session
from locas_engine import (
    MemorySpec,
    attach_memory,
    backbone_from_model,
    detach_memory,
    save_memory,
)

pytestmark = pytest.mark.qt


def _export(bb, path) -> str:
    memory = attach_memory(bb, MemorySpec(rank=4), name="moby")
    memory.initialized = True
    saved = save_memory(memory, path)
    detach_memory(bb, memory)
    return str(saved)


def test_import_memory_file_from_the_file_menu(window, qtbot, monkeypatch, boxes, tmp_path):
    torch.manual_seed(0)
    cfg = tf.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2)
    mine = backbone_from_model(tf.LlamaForCausalLM(cfg), name="mine")
    theirs = backbone_from_model(tf.LlamaForCausalLM(cfg), name="theirs")
    monkeypatch.setattr(Session, "backbone", lambda self: mine)
    chosen = [_export(theirs, tmp_path / "theirs" / "moby"), _export(mine, tmp_path / "mine" / "moby")]
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (chosen.pop(0), ""))

    assert "Import Memory" in " ".join(a.text() for a in window.menuBar().actions()[0].menu().actions())
    window.import_memory_action.trigger()
    qtbot.waitUntil(lambda: bool(boxes.of("warning")), timeout=30_000)
    kind, title, text = boxes.of("warning")[0]
    assert title == "Memory not imported" and "made for the model 'theirs'" in text
    combo = window.question_panel.memory_combo
    assert "moby" not in [combo.itemText(i) for i in range(combo.count())]

    window.import_memory_action.trigger()
    qtbot.waitUntil(lambda: "moby" in [combo.itemText(i) for i in range(combo.count())], timeout=30_000)
    assert len(boxes.of("warning")) == 1
