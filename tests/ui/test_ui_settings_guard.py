"""Model and device choices are guarded in the Settings dialog: an unusable one is refused at
choice time with a sentence, and never saved."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import Qt

from app.settings import Settings
from app.ui.settings_dialog import SettingsDialog

pytestmark = pytest.mark.qt


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a CPU-only torch")
def test_choosing_cuda_on_a_cpu_only_torch_is_refused_with_a_sentence(qtbot):
    dialog = SettingsDialog(Settings(device="cpu"))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.device.currentText().startswith("CPU (")  # the CPU by name, with threads
    dialog.device.setFocus()
    qtbot.keyClicks(dialog.device, "cuda")
    assert dialog.device.currentData() == "cuda"
    assert dialog.problem.isVisible() and "built for the CPU only" in dialog.problem.text()
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    qtbot.keyClick(dialog.device, Qt.Key.Key_Return)
    assert dialog.isVisible()  # refused: still open
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    assert ok.isEnabled() and not dialog.problem.isVisible()
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible() and dialog.result_settings().device == "cpu"


def test_a_folder_that_is_not_a_model_and_a_file_that_is_not_gguf_are_refused(qtbot, tmp_path):
    notes = tmp_path / "notes"
    notes.mkdir()
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"<html>not found</html>")
    dialog = SettingsDialog(Settings(model=str(notes)))
    qtbot.addWidget(dialog)
    dialog.show()
    assert "holds no model" in dialog.problem.text()
    dialog.model_path.clear()
    qtbot.keyClicks(dialog.model_path, str(fake))
    assert "not a GGUF model" in dialog.problem.text()
    dialog.accept()
    assert dialog.isVisible()
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    dialog.model_path.setText(str(model))
    assert "no weights" in dialog.problem.text()
    (model / "model.safetensors").write_bytes(b"x")
    dialog.accept()  # checks again: the weights are there now
    assert not dialog.isVisible() and dialog.result_settings().model == str(model)
