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


def test_importing_a_memory_whose_name_is_taken_asks_for_another(window, qtbot, monkeypatch, boxes, tmp_path):
    """The same export imported twice: the window asks for another name (not a command line to
    type), suggests one, and Cancel imports nothing; the imported memory's tooltip says where
    it came from, not "Sources: none yet"."""
    from PySide6.QtWidgets import QInputDialog

    from app.ui.library_view import COL_TITLE

    torch.manual_seed(0)
    cfg = tf.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2)
    mine = backbone_from_model(tf.LlamaForCausalLM(cfg), name="mine")
    monkeypatch.setattr(Session, "backbone", lambda self: mine)
    exported = _export(mine, tmp_path / "mine" / "moby")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (exported, ""))
    asked: list[tuple[str, str]] = []
    answers = [("", False), ("moby, second copy", True)]  # Cancel first, then a new name

    def get_text(parent, title, label, *args, **kwargs):
        asked.append((label, kwargs.get("text", "")))
        return answers.pop(0)

    monkeypatch.setattr(QInputDialog, "getText", get_text)
    view = window.library_view
    window.import_memory_action.trigger()
    qtbot.waitUntil(lambda: "moby" in view.memory_names(), timeout=30_000)
    assert not asked
    tip = view.memory_item("moby").toolTip(COL_TITLE)
    assert tip.startswith("Imported from ") and "none yet" not in tip

    window.import_memory_action.trigger()  # Cancel: nothing more
    qtbot.waitUntil(lambda: len(asked) == 1, timeout=30_000)
    assert "“moby” is already in the library" in asked[0][0] and asked[0][1] == "moby (2)"
    window.import_memory_action.trigger()
    qtbot.waitUntil(lambda: "moby, second copy" in view.memory_names(), timeout=30_000)
    assert sorted(view.memory_names()) == ["moby", "moby, second copy"]
    assert not boxes.of("warning")
