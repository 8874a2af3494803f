"""The Settings dialog: which model and device, and the defaults for memorizing and asking.

It edits a copy of `app.settings.Settings` and hands it back; saving and applying the settings
belongs to the caller, so the dialog can be tested without touching disk or the model.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from app.devices import available_devices, device_problem
from app.models import model_problem
from app.settings import Settings
from app.ui.memorize_form import MemorizeSettingsForm, spin
from app.ui.model_manager_dialog import ModelManagerDialog


def device_choices() -> list[tuple[str, str]]:
    """(setting, label) for the device list: auto, every device torch sees by name, and the
    generic GPU names even where they cannot be used, so choosing one says why not."""
    choices = [("auto", "auto (best available)")]
    choices += [(d.name, d.label) for d in available_devices()]
    names = {name for name, _ in choices}
    if not any(n.startswith("cuda") for n in names):
        choices.append(("cuda", "cuda (NVIDIA GPU)"))
    if "mps" not in names:
        choices.append(("mps", "mps (Apple GPU)"))
    return choices


PATH_CHARS = 48  # the path field shows at least this many characters of a model path


class SettingsDialog(QDialog):
    """Model, device and memorization/answer defaults; `result_settings()` returns the edit."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._original = settings
        # Two columns (model and answers; memorization), so that the dialog fits a 600-pixel
        # screen with the advanced settings open.
        layout = QVBoxLayout(self)
        columns = QHBoxLayout()
        left, right = QVBoxLayout(), QVBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout.addLayout(columns, 1)

        # -- model --------------------------------------------------------------------------
        model_box = QGroupBox("Model")
        model_layout = QVBoxLayout(model_box)
        self.default_model = QRadioButton("Built-in model (SmolLM2-135M-Instruct)")
        self.local_model = QRadioButton("A model on this computer (folder or .gguf file):")
        group = QButtonGroup(self)
        group.addButton(self.default_model)
        group.addButton(self.local_model)
        # The path has a row of its own: beside three buttons it was cut to a dozen characters,
        # and a model path is read by its end (the file name), which is what got cut.
        self.model_path = QLineEdit()
        self.model_path.setPlaceholderText("/path/to/model-folder or model.gguf")
        self.model_path.setMinimumWidth(self.model_path.fontMetrics().horizontalAdvance("x" * PATH_CHARS))
        self.model_path.textChanged.connect(self.model_path.setToolTip)
        self.browse_folder = QPushButton("Folder…")
        self.browse_file = QPushButton("GGUF file…")
        self.find_models = QPushButton("Models on this computer…")
        self.find_models.setToolTip("Models in the Hugging Face cache, LM Studio, GPT4All and Ollama")
        browse_row = QHBoxLayout()
        browse_row.addWidget(self.browse_folder)
        browse_row.addWidget(self.browse_file)
        browse_row.addWidget(self.find_models)
        browse_row.addStretch(1)
        model_layout.addWidget(self.default_model)
        model_layout.addWidget(self.local_model)
        model_layout.addWidget(self.model_path)
        model_layout.addLayout(browse_row)
        device_form = QFormLayout()
        self.device = QComboBox()
        for name, label in device_choices():
            self.device.addItem(label, name)
        self.device.setToolTip("auto picks a CUDA GPU, then Apple MPS, then the CPU")
        device_form.addRow("Device:", self.device)
        model_layout.addLayout(device_form)
        # Why the chosen model or device cannot be used, shown the moment it is chosen.
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        model_layout.addWidget(self.problem)
        left.addWidget(model_box)

        # -- memorization defaults ------------------------------------------------------------
        mem_box = QGroupBox("Memorization defaults")
        self.form = MemorizeSettingsForm(settings, advanced_title="Advanced")
        QVBoxLayout(mem_box).addWidget(self.form)
        right.addWidget(mem_box)
        right.addStretch(1)
        # Folded again, the dialog gives back the height the advanced rows took.
        self.form.advanced.toggle.toggled.connect(lambda _on: QTimer.singleShot(0, self._fit_height))

        # -- answers --------------------------------------------------------------------------
        ans_box = QGroupBox("Answers")
        ans = QFormLayout(ans_box)
        self.passages = spin(0, 32, "Library passages retrieved for each question")
        self.max_new_tokens = spin(1, 4096, "Longest answer, in tokens")
        self.use_memory = QCheckBox("Use the memory")
        self.use_retrieval = QCheckBox("Retrieve passages from the library")
        ans.addRow("Passages:", self.passages)
        ans.addRow("Answer length:", self.max_new_tokens)
        ans.addRow(self.use_memory)
        ans.addRow(self.use_retrieval)
        left.addWidget(ans_box)
        left.addStretch(1)

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
        self.default_model.toggled.connect(self._check)
        self.model_path.textChanged.connect(self._check)
        self.device.currentIndexChanged.connect(self._check)
        self.browse_folder.clicked.connect(self._pick_folder)
        self.browse_file.clicked.connect(self._pick_gguf)
        self.find_models.clicked.connect(self.open_model_manager)
        self.load(settings)
        self.resize(760, self.sizeHint().height())  # room for the advanced rows' fields

    def _fit_height(self) -> None:
        # The folded rows' space is given back once each layout from the section up to the
        # dialog is laid out again (one event-loop turn per level, unless asked now).
        widget = self.form.advanced
        while widget is not None:
            if widget.layout() is not None:
                widget.layout().activate()
            widget = widget.parentWidget()
        self.resize(self.width(), self.sizeHint().height())

    # -- load / read back ---------------------------------------------------------------------
    def load(self, s: Settings) -> None:
        """Show the given settings in the widgets."""
        is_default = s.model == "default"
        self.default_model.setChecked(is_default)
        self.local_model.setChecked(not is_default)
        self.model_path.setText("" if is_default else s.model)
        self._set_device(s.device)
        self.form.load(s.specs)
        self.passages.setValue(s.passages)
        self.max_new_tokens.setValue(s.max_new_tokens)
        self.use_memory.setChecked(s.use_memory)
        self.use_retrieval.setChecked(s.use_retrieval)
        self._sync_model_enabled()
        self._check()

    def result_settings(self) -> Settings:
        """The edited settings (fields the dialog does not show keep their original values)."""
        model = "default"
        if self.local_model.isChecked() and self.model_path.text().strip():
            model = self.model_path.text().strip()
        memory, training = self.form.specs(self._original.specs)
        return dataclasses.replace(
            self._original,
            memory=memory,
            training=training,
            model=model,
            device=self.device.currentData(),
            passages=self.passages.value(),
            max_new_tokens=self.max_new_tokens.value(),
            use_memory=self.use_memory.isChecked(),
            use_retrieval=self.use_retrieval.isChecked(),
        )

    # -- guarding the choice ------------------------------------------------------------------
    def choice_problem(self) -> str | None:
        """Why the chosen model or device cannot be used (None when both can)."""
        if self.local_model.isChecked():
            problem = model_problem(self.model_path.text())
            if problem:
                return problem
        return device_problem(self.device.currentData() or "")

    def _check(self) -> None:
        problem = self.choice_problem()
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(problem is None)

    def accept(self) -> None:
        """Refuse to close with a model or device that cannot be used: nothing is saved, and the
        sentence saying why stays in view."""
        self._check()
        if self.choice_problem() is None:
            super().accept()

    # -- the model manager ----------------------------------------------------------------------
    def open_model_manager(self) -> ModelManagerDialog:
        """Find the models already on this computer (on a background thread) and pick one."""
        from app.models import discover, inspect
        from app.ui.taskman import TaskManager

        tasks = TaskManager(parent=self)
        dialog = ModelManagerDialog(
            discover.iter_models, inspect.inspect_model, discover.setting_for,
            run=lambda fn, done: tasks.run(fn, on_done=done, on_error=lambda msg: dialog.status.setText(
                f"The search for models stopped: {msg}")),
            post=tasks.post,
            parent=self,
        )
        dialog.accepted.connect(lambda: self.use_model(dialog.chosen_setting()))
        dialog.open()
        return dialog

    def use_model(self, setting: str | None) -> None:
        if not setting:
            return
        if setting == "default":
            self.default_model.setChecked(True)
        else:
            self.local_model.setChecked(True)
            self.model_path.setText(setting)
        self._check()

    # -- helpers ------------------------------------------------------------------------------
    def _set_device(self, name: str) -> None:
        index = self.device.findData(name)
        if index < 0 and name == "cuda":  # the first GPU, listed by its name
            index = self.device.findData("cuda:0")
        if index < 0:  # a setting this machine does not list: keep it visible, and say why
            self.device.addItem(name, name)
            index = self.device.count() - 1
        self.device.setCurrentIndex(index)

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
