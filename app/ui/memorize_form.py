"""The memorization settings form, shared by the Memorize dialog and the Settings dialog.

Both dialogs edit the same fields of `app.settings.Settings` (the Settings dialog the defaults,
the Memorize dialog one job's values), so one widget holds them: the memory size up front and
the training knobs folded away, since the defaults are what the benchmarks chose.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.settings import Settings
from app.ui.widgets import CollapsibleSection

INITS = ["topk", "bottomk", "random", "gaussian"]
# Fixed once a memory exists: they decide its tensors' shapes and scale.
SHAPE_FIELDS = ("rank", "init", "tau_scale", "layers")


# The words the Memorize dialog shows for each setting; the memory details dialog uses them too,
# so nobody reads "tau_scale" there.
SETTING_LABELS = {
    "rank": "Memory size (rank)", "init": "Initializer", "lr": "Learning rate",
    "tau_scale": "Output scale (× tau)", "chunk": "Chunk (tokens)", "context": "Context (tokens)",
    "steps": "Steps per chunk", "checkpoint_every": "Checkpoint every (chunks)", "layers": "Layers",
}


class MemorizeSettingsForm(QWidget):
    """Memory size and (folded) training settings; `values()` gives them as Settings fields."""

    def __init__(self, settings: Settings, advanced_title: str = "Advanced settings",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        basic = QFormLayout()
        self.rank = spin(1, 4096, "Memory width: a wider memory holds more and costs more")
        basic.addRow(f"{SETTING_LABELS['rank']}:", self.rank)
        layout.addLayout(basic)

        self.advanced = CollapsibleSection(advanced_title)
        adv = QFormLayout()
        self.init = QComboBox()
        self.init.addItems(INITS)
        self.init.setToolTip("How the memory starts: topk clones the model's most active FFN slots")
        self.lr = QDoubleSpinBox()
        self.lr.setDecimals(5)
        self.lr.setRange(1e-5, 1.0)
        self.lr.setSingleStep(1e-3)
        self.tau_scale = QDoubleSpinBox()
        self.tau_scale.setDecimals(2)
        self.tau_scale.setRange(0.01, 1024.0)
        self.tau_scale.setToolTip("Scale of the memory's output, times the method's tau")
        self.chunk = spin(8, 8192, "Tokens trained on per step")
        self.context = spin(0, 8192, "Preceding tokens that condition a chunk")
        self.steps = spin(1, 64, "Optimizer steps per chunk")
        self.checkpoint_every = spin(1, 10_000, "Chunks between checkpoints: the most a crash can lose")
        self.layers = QLineEdit()
        self.layers.setToolTip('"all" or a range such as "15-29"')
        adv.addRow(f"{SETTING_LABELS['init']}:", self.init)
        adv.addRow(f"{SETTING_LABELS['lr']}:", self.lr)
        adv.addRow(f"{SETTING_LABELS['tau_scale']}:", self.tau_scale)
        adv.addRow(f"{SETTING_LABELS['chunk']}:", self.chunk)
        adv.addRow(f"{SETTING_LABELS['context']}:", self.context)
        adv.addRow(f"{SETTING_LABELS['steps']}:", self.steps)
        adv.addRow(f"{SETTING_LABELS['checkpoint_every']}:", self.checkpoint_every)
        adv.addRow(f"{SETTING_LABELS['layers']}:", self.layers)
        self.advanced.set_content_layout(adv)
        layout.addWidget(self.advanced)
        self.load(settings)

    def load(self, s: Settings) -> None:
        self.rank.setValue(s.rank)
        set_combo(self.init, s.init)
        self.lr.setValue(s.lr)
        self.tau_scale.setValue(s.tau_scale)
        self.chunk.setValue(s.chunk)
        self.context.setValue(s.context)
        self.steps.setValue(s.steps)
        self.checkpoint_every.setValue(s.checkpoint_every)
        self.layers.setText(s.layers)

    def values(self) -> dict[str, Any]:
        """The form as `Settings` / `MemorizeRequest` keyword arguments."""
        return {
            "rank": self.rank.value(), "init": self.init.currentText(), "lr": float(self.lr.value()),
            "tau_scale": float(self.tau_scale.value()), "chunk": self.chunk.value(),
            "context": self.context.value(), "steps": self.steps.value(),
            "checkpoint_every": self.checkpoint_every.value(),
            "layers": self.layers.text().strip() or "all",
        }

    def set_shape_editable(self, editable: bool) -> None:
        """An existing memory's shape is fixed; only its training settings may change."""
        for name in SHAPE_FIELDS:
            getattr(self, name).setEnabled(editable)


def spin(lo: int, hi: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(lo, hi)
    box.setToolTip(tip)
    return box


def set_combo(combo: QComboBox, value: str) -> None:
    """Select ``value``, adding it if it is not one of the listed choices (never lose a setting)."""
    index = combo.findText(value)
    if index < 0:
        combo.addItem(value)
        index = combo.count() - 1
    combo.setCurrentIndex(index)
