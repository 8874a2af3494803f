"""The status bar tells the truth about the device in use, and an unusable device is a sentence."""

from __future__ import annotations

import pytest
import torch

pytestmark = pytest.mark.qt


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only torch")
def test_cuda_on_cpu_torch_is_explained_and_the_status_bar_claims_no_device(qtbot, boxes):
    from ui_helpers import make_window

    from app.settings import Settings, save_settings

    save_settings(Settings(device="cuda"))  # e.g. written by an older version
    window = make_window(qtbot)
    # Loading the settings already drops the device, and the window says so (issue 16) ...
    qtbot.waitUntil(lambda: bool(boxes.of("warning")), timeout=30_000)
    assert "'device'" in boxes.of("warning")[0][2] and "built for the CPU only" in boxes.of("warning")[0][2]
    assert window.controller.settings.device == "auto"
    boxes.calls.clear()
    # ... and a device that reaches the session anyway is still refused before loading.
    window.controller.worker.session.settings.device = "cuda"
    window.device_label.setText("Device: cpu")  # what an earlier load left there
    window.controller.load_model()
    qtbot.waitUntil(lambda: bool(boxes.of("warning") or boxes.of("critical")), timeout=30_000)
    text = (boxes.of("warning") or boxes.of("critical"))[0][2]
    assert "built for the CPU only" in text and "Something went wrong" not in text
    assert window.device_label.text() == "Device: –"
    assert window.model_label.text() == "Model: failed to load"
    window.close()


def test_status_bar_names_the_model_and_device_really_loaded(qtbot, monkeypatch):
    import transformers as tf
    from ui_helpers import make_window

    from app.session import Session
    from locas_engine import backbone_from_model

    cfg = tf.LlamaConfig(vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2)
    tiny = backbone_from_model(tf.LlamaForCausalLM(cfg), name="tiny-llama")
    monkeypatch.setattr(Session, "backbone", lambda self: tiny)
    window = make_window(qtbot)
    window.controller.load_model()
    qtbot.waitUntil(lambda: window.model_label.text() == "Model: tiny-llama", timeout=30_000)
    threads = torch.get_num_threads()
    assert window.device_label.text() == f"Device: CPU ({threads} thread{'s' if threads > 1 else ''})"
    window.close()
