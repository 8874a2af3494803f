"""The Settings dialog: which model and device, and the defaults for memorizing and asking.

It edits a copy of `app.settings.Settings` and hands it back; saving and applying the settings
belongs to the caller, so the dialog can be tested without touching disk or the model.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.settings import Settings
from app.ui.widgets import CollapsibleSection

DEVICES = ["auto", "cpu", "cuda", "mps"]
INITS = ["topk", "bottomk", "random", "gaussian"]


class SettingsDialog(QDialog):
    """Model, device and memorization/answer defaults; `result_settings()` returns the edit."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._original = settings
        layout = QVBoxLayout(self)

        # -- model --------------------------------------------------------------------------
        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        self.default_model = QRadioButton("Built-in model (SmolLM2-135M-Instruct)")
        self.local_model = QRadioButton("A model on this computer (folder or .gguf file):")
        group = QButtonGroup(self)
        group.addButton(self.default_model)
        group.addButton(self.local_model)
        path_row = QHBoxLayout()
        self.model_path = QLineEdit()
        self.model_path.setPlaceholderText("/path/to/model-folder or model.gguf")
        self.browse_folder = QPushButton("Folder…")
        self.browse_file = QPushButton("GGUF file…")
        path_row.addWidget(self.model_path, 1)
        path_row.addWidget(self.browse_folder)
        path_row.addWidget(self.browse_file)
        model_layout.addWidget(self.default_model)
        model_layout.addWidget(self.local_model)
        model_layout.addLayout(path_row)
        device_form = QFormLayout()
        self.device = QComboBox()
        self.device.addItems(DEVICES)
        self.device.setToolTip("auto picks a CUDA GPU, then Apple MPS, then the CPU")
        device_form.addRow("Device:", self.device)
        model_layout.addLayout(device_form)
        layout.addWidget(model_box)

        # -- memorization defaults ------------------------------------------------------------
        mem_box = QGroupBox("Memorization defaults")
        mem_layout = QVBoxLayout(mem_box)
        basic = QFormLayout()
        self.rank = _spin(1, 4096, "Memory width: more slots hold more, cost more memory")
        basic.addRow("Memory size (rank):", self.rank)
        mem_layout.addLayout(basic)
        self.advanced = CollapsibleSection("Advanced")
        adv = QFormLayout()
        self.init = QComboBox()
        self.init.addItems(INITS)
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 1.0)
        self.lr.setSingleStep(1e-3)
        self.chunk = _spin(8, 8192, "Tokens trained on per step")
        self.context = _spin(0, 8192, "Preceding tokens that condition a chunk")
        self.steps = _spin(1, 64, "Optimizer steps per chunk")
        self.checkpoint_every = _spin(1, 10_000, "Chunks between checkpoints")
        self.layers = QLineEdit()
        self.layers.setToolTip('"all" or a range such as "15-29"')
        adv.addRow("Initializer:", self.init)
        adv.addRow("Learning rate:", self.lr)
        adv.addRow("Chunk (tokens):", self.chunk)
        adv.addRow("Context (tokens):", self.context)
        adv.addRow("Steps per chunk:", self.steps)
        adv.addRow("Checkpoint every (chunks):", self.checkpoint_every)
        adv.addRow("Layers:", self.layers)
        self.advanced.set_content_layout(adv)
        mem_layout.addWidget(self.advanced)
        layout.addWidget(mem_box)

        # -- answers --------------------------------------------------------------------------
        ans_box = QGroupBox("Answers")
        ans = QFormLayout(ans_box)
        self.passages = _spin(0, 32, "Library passages retrieved for each question")
        self.max_new_tokens = _spin(1, 4096, "Longest answer, in tokens")
        self.use_memory = QCheckBox("Use the memory")
        self.use_retrieval = QCheckBox("Retrieve passages from the library")
        ans.addRow("Passages:", self.passages)
        ans.addRow("Answer length:", self.max_new_tokens)
        ans.addRow(self.use_memory)
        ans.addRow(self.use_retrieval)
        layout.addWidget(ans_box)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            lambda: self.load(Settings())
        )
        self.buttons = buttons
        layout.addWidget(buttons)

        self.default_model.toggled.connect(self._sync_model_enabled)
        self.browse_folder.clicked.connect(self._pick_folder)
        self.browse_file.clicked.connect(self._pick_gguf)
        self.load(settings)

    # -- load / read back ---------------------------------------------------------------------
    def load(self, s: Settings) -> None:
        """Show the given settings in the widgets."""
        is_default = s.model == "default"
        self.default_model.setChecked(is_default)
        self.local_model.setChecked(not is_default)
        self.model_path.setText("" if is_default else s.model)
        _set_combo(self.device, s.device)
        self.rank.setValue(s.rank)
        _set_combo(self.init, s.init)
        self.lr.setValue(s.lr)
        self.chunk.setValue(s.chunk)
        self.context.setValue(s.context)
        self.steps.setValue(s.steps)
        self.checkpoint_every.setValue(s.checkpoint_every)
        self.layers.setText(s.layers)
        self.passages.setValue(s.passages)
        self.max_new_tokens.setValue(s.max_new_tokens)
        self.use_memory.setChecked(s.use_memory)
        self.use_retrieval.setChecked(s.use_retrieval)
        self._sync_model_enabled()

    def result_settings(self) -> Settings:
        """The edited settings (fields the dialog does not show keep their original values)."""
        model = "default"
        if self.local_model.isChecked() and self.model_path.text().strip():
            model = self.model_path.text().strip()
        return dataclasses.replace(
            self._original,
            model=model,
            device=self.device.currentText(),
            rank=self.rank.value(),
            init=self.init.currentText(),
            lr=float(self.lr.value()),
            chunk=self.chunk.value(),
            context=self.context.value(),
            steps=self.steps.value(),
            checkpoint_every=self.checkpoint_every.value(),
            layers=self.layers.text().strip() or "all",
            passages=self.passages.value(),
            max_new_tokens=self.max_new_tokens.value(),
            use_memory=self.use_memory.isChecked(),
            use_retrieval=self.use_retrieval.isChecked(),
        )

    # -- helpers ------------------------------------------------------------------------------
    def _sync_model_enabled(self) -> None:
        local = self.local_model.isChecked()
        for w in (self.model_path, self.browse_folder, self.browse_file):
            w.setEnabled(local)

    def _pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.model_path.setText(folder)

    def _pick_gguf(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a GGUF model", "", "GGUF models (*.gguf)")
        if path:
            self.model_path.setText(path)


def _spin(lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setToolTip(tip)
    return box


def _set_combo(combo: QComboBox, value: str) -> None:
    """Select ``value``, adding it if it is not one of the listed choices (never lose a setting)."""
    index = combo.findText(value)
    if index < 0:
        combo.addItem(value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
