"""The memorization settings form, shared by the Memorize dialog and the Settings dialog.

Both dialogs edit the same fields, the engine's MemorySpec and TrainingSpec (the Settings
dialog the defaults, the Memorize dialog one job's values), so one widget holds them: the memory
size up front and the training knobs folded away, since the defaults are what the benchmarks
chose. The rows are made from the specs' fields.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from locas_engine import spec
from locas_engine.spec import Knob, MemorySpec, Specs


@dataclass(frozen=True)
class Row:
    """How the form shows one of the engine's settings (its help, range and choices come from
    the setting's knob in locas_engine/spec.py)."""

    label: str  # the words a dialog shows (never the field's name)
    basic: bool = False  # shown up front; the others are folded away
    decimals: int = 0  # digits a number box shows (floats)


# Every knob of the engine's specs, in the form's order (a test checks none is missing).
ROWS = {
    "rank": Row("Memory size (rank)", basic=True),
    "init": Row("Initializer"),
    "output_scale": Row("Output scale", decimals=3),
    "layers": Row("Layers"),
    "lr": Row("Learning rate", decimals=5),
    "chunk": Row("Chunk (tokens)"),
    "context": Row("Context (tokens)"),
    "steps": Row("Steps per chunk"),
    "checkpoint_every": Row("Checkpoint every (chunks)"),
    "precision": Row("Precision"),
}
# Fixed once a memory exists: they decide its tensors' shapes and scale.
SHAPE_FIELDS = tuple(name for name, _, _ in spec.knobs(MemorySpec))
# What a memory keeps from when it was made: its shape, and the precision it is trained in
# (the Memorize dialog greys them out when adding to an existing memory).
KEPT_BY_MEMORY = (*SHAPE_FIELDS, "precision")
FORM_KNOBS = list(spec.all_knobs())

# The words the dialogs show for each setting (the memory details dialog too, so nobody reads
# "output_scale" there).
SETTING_LABELS = {name: row.label for name, row in ROWS.items()}


class MemorizeSettingsForm(QWidget):
    """Memory size and (folded) training settings; `specs(base)` gives them as the pair a
    memorize request carries.

    One row per knob of the engine's specs (locas_engine/spec.py): its tooltip, range and
    choices come from there, its words from ``ROWS``. Each row's
    widget is also an attribute named after its field (``form.rank``, ``form.lr``).
    """

    def __init__(self, settings: Settings, advanced_title: str = "Advanced settings",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        basic = QFormLayout()
        self.advanced = CollapsibleSection(advanced_title)
        adv = QFormLayout()
        self.widgets: dict[str, QWidget] = {}
        for name, knob, default in FORM_KNOBS:
            row = ROWS[name]
            widget = knob_widget(knob, default, row.decimals)
            self.widgets[name] = widget
            setattr(self, name, widget)
            (basic if row.basic else adv).addRow(f"{row.label}:", widget)
        layout.addLayout(basic)
        self.advanced.set_content_layout(adv)
        layout.addWidget(self.advanced)
        self.load(settings.specs)

    def load(self, specs: Specs) -> None:
        values = spec.flat(*specs)
        for name, widget in self.widgets.items():
            set_value(widget, values[name])

    def specs(self, base: Specs, shape: bool = True) -> Specs:
        """``base`` with the form's values (``dataclasses.replace``); with ``shape`` False the
        memory's shape and precision are ``base``'s (an existing memory's), whatever its locked
        rows show. ValueError (a sentence) for a value the specs refuse."""
        values = {name: value_of(widget) for name, widget in self.widgets.items()
                  if shape or name not in KEPT_BY_MEMORY}
        return base.with_values(values)

    def set_shape_editable(self, editable: bool) -> None:
        """An existing memory's shape and precision are fixed; only its training settings may change."""
        for name in KEPT_BY_MEMORY:
            self.widgets[name].setEnabled(editable)


def knob_widget(knob: Knob, default: Any, decimals: int = 0) -> QWidget:
    """The input a knob asks for: a list of its choices, a number box in its range, or text."""
    if knob.choices:
        box = QComboBox()
        box.addItems(list(knob.choices))
    elif isinstance(default, float):
        box = QDoubleSpinBox()
        box.setDecimals(decimals)
        box.setRange(knob.low or 0.0, knob.high or 1e9)
        box.setSingleStep(10 ** -(decimals - 2) if decimals > 2 else 0.1)
    elif isinstance(default, int):
        box = QSpinBox()
        box.setRange(int(knob.low or 0), int(knob.high or 1_000_000))
    else:
        box = QLineEdit()
    box.setToolTip(knob.help)
    return box


def set_value(widget: QWidget, value: Any) -> None:
    if isinstance(widget, QComboBox):
        set_combo(widget, str(value))
    elif isinstance(widget, QLineEdit):
        widget.setText(str(value))
    else:
        widget.setValue(value)


def value_of(widget: QWidget) -> Any:
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QLineEdit):
        return widget.text().strip() or "all"
    if isinstance(widget, QDoubleSpinBox):
        return float(widget.value())
    return widget.value()


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
