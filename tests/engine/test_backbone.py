"""Loading backbones from local folders, fingerprints, and refusing what is not there."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import tiny_model

from locas_engine import backbone_from_model, load_backbone
from locas_engine.backbone import fingerprint_model, resolve_device


def test_load_local_folder_with_stable_fingerprint(tmp_path):
    model = tiny_model("qwen3")
    model.save_pretrained(tmp_path / "qwen3-tiny")
    bb = load_backbone(tmp_path / "qwen3-tiny", device="cpu")
    assert bb.name == "qwen3-tiny" and bb.dtype == torch.float32
    assert bb.fingerprint == backbone_from_model(model).fingerprint
    assert not any(p.requires_grad for p in bb.model.parameters())
    # A bf16 copy of the same weights is the same model to a memory.
    assert fingerprint_model(model.to(torch.bfloat16)) == bb.fingerprint


def test_fingerprint_tells_models_apart():
    assert fingerprint_model(tiny_model("llama", seed=0)) != fingerprint_model(tiny_model("llama", seed=1))


def test_missing_model_is_never_downloaded():
    with pytest.raises(FileNotFoundError, match="never downloads"):
        load_backbone("someone/not-a-cached-model-xyz", device="cpu")
    with pytest.raises(FileNotFoundError, match="No GGUF file"):
        load_backbone("/nonexistent/model.gguf", device="cpu")


def test_device_resolution():
    assert resolve_device("cpu") == (torch.device("cpu"), torch.float32)
    dev, dtype = resolve_device("auto")
    assert dev.type in ("cuda", "mps", "cpu")
    assert dtype == (torch.bfloat16 if dev.type == "cuda" else torch.float32)
