"""The Memorize dialog's list of chapters: tick the ones to memorize.

Shown when one document is chosen. Every chapter starts ticked (the whole document); a chapter
the chosen memory already holds is marked, and the job skips it. ``chosen_ids`` is None while
every chapter is ticked, so a whole-document job stays a whole-document job.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.widgets import fmt_size

SectionRow = tuple[int, str, int]  # (section id, numbered title "4. Loomings", characters)


class ChapterPicker(QWidget):
    changed = Signal()

    def __init__(self, sections: list[SectionRow], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sections = list(sections)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel(f"<b>Chapters</b> ({len(self.sections)})"))
        head.addStretch(1)
        self.all_button = QPushButton("All")
        self.none_button = QPushButton("None")
        for button, state in ((self.all_button, True), (self.none_button, False)):
            button.setAutoDefault(False)  # Enter starts the job, never ticks chapters
            button.clicked.connect(lambda _=False, s=state: self.set_all(s))
            head.addWidget(button)
        layout.addLayout(head)
        # What the chosen memory already holds, chapters and tokens (shown when adding to one)
        self.holding_label = QLabel("")
        self.holding_label.setObjectName("holdingLabel")
        self.holding_label.setWordWrap(True)
        self.holding_label.hide()
        layout.addWidget(self.holding_label)
        self.list = QListWidget()
        self.list.setAccessibleName("Chapters to memorize")
        # A long title wraps onto a second line: read whole, never scrolled to sideways.
        self.list.setWordWrap(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for section_id, label, characters in self.sections:
            item = QListWidgetItem(f"{label}  ·  {fmt_size(characters)}")
            item.setData(Qt.ItemDataRole.UserRole, section_id)
            item.setToolTip(label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.list.addItem(item)
        self.list.itemChanged.connect(lambda _item: self.changed.emit())
        layout.addWidget(self.list)

    def _items(self) -> list[QListWidgetItem]:
        return [self.list.item(i) for i in range(self.list.count())]

    def set_all(self, checked: bool) -> None:
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        self.list.blockSignals(True)
        for item in self._items():
            item.setCheckState(state)
        self.list.blockSignals(False)
        self.changed.emit()

    def set_checked(self, numbers: set[int]) -> None:
        """Tick exactly these 1-based chapter numbers."""
        self.list.blockSignals(True)
        for number, item in enumerate(self._items(), 1):
            item.setCheckState(Qt.CheckState.Checked if number in numbers else Qt.CheckState.Unchecked)
        self.list.blockSignals(False)
        self.changed.emit()

    def mark_held(self, held_ids: set[int], holding: str = "") -> None:
        """Show which chapters the chosen memory already holds (the job skips them), and
        ``holding``, what it holds in words ("“alice” holds chapters 1-3 of 12, 9,100 tokens")."""
        self.holding_label.setText(holding)
        self.holding_label.setVisible(bool(holding))
        for item in self._items():
            text = item.text().removesuffix("  ·  already in this memory")
            if item.data(Qt.ItemDataRole.UserRole) in held_ids:
                text += "  ·  already in this memory"
            item.setText(text)

    def checked_ids(self) -> list[int]:
        return [item.data(Qt.ItemDataRole.UserRole) for item in self._items()
                if item.checkState() == Qt.CheckState.Checked]

    def chosen_ids(self) -> list[int] | None:
        """The ticked chapters' section ids, or None when all are ticked (the whole document)."""
        ids = self.checked_ids()
        return None if len(ids) == len(self.sections) else ids
