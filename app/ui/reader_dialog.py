"""Read a document: its table of contents on the left, one section at a time on the right.

Previous / Next (Alt+Left / Alt+Right, or the buttons) walk the sections in order; a click in
the contents jumps. Sections are read from the library one at a time (a light GUI-thread read),
so a long novel opens at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui.resources import icon


class ReaderDialog(QDialog):
    """A document's sections with contents and previous / next."""

    def __init__(self, library: Any, document_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        doc = library.get_document(document_id)
        self.library = library
        self.sections = library.sections(document_id)
        self.setWindowTitle(f"Reading “{doc.title if doc else ''}”")
        self.setWindowIcon(icon("book"))
        self.contents = QListWidget()
        self.contents.setObjectName("readerContents")
        self.contents.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.contents.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for info in self.sections:  # numbered as `locas list --sections` and citations number them
            self.contents.addItem(info.label)
            self.contents.item(self.contents.count() - 1).setToolTip(info.label)
        self.title = QLabel()
        self.title.setObjectName("sectionTitle")
        self.text = QTextBrowser()
        self.text.setObjectName("passageView")
        self.previous_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.previous_button.setToolTip("Previous section (Alt+Left)")
        self.next_button.setToolTip("Next section (Alt+Right)")
        self.position = QLabel()
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.title)
        rl.addWidget(self.text, 1)
        nav = QHBoxLayout()
        nav.addWidget(self.previous_button)
        nav.addStretch(1)
        nav.addWidget(self.position)
        nav.addStretch(1)
        nav.addWidget(self.next_button)
        rl.addLayout(nav)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.contents)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([220, 580])
        QVBoxLayout(self).addWidget(split)
        self.contents.currentRowChanged.connect(self.show_section)
        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        QShortcut(QKeySequence("Alt+Left"), self, activated=lambda: self.step(-1))
        QShortcut(QKeySequence("Alt+Right"), self, activated=lambda: self.step(1))
        self.resize(860, 600)
        if self.sections:
            self.contents.setCurrentRow(0)
        else:
            self.title.setText("This document has no text to read.")
            self.previous_button.setEnabled(False)
            self.next_button.setEnabled(False)

    def current(self) -> int:
        return self.contents.currentRow()

    def step(self, delta: int) -> None:
        row = self.current() + delta
        if 0 <= row < len(self.sections):
            self.contents.setCurrentRow(row)

    def show_section(self, row: int) -> None:
        if not 0 <= row < len(self.sections):
            return
        info = self.sections[row]
        self.title.setText(info.label)
        self.text.setPlainText(self.library.section_text(info.id))
        self.position.setText(f"{row + 1} of {len(self.sections)}")
        self.previous_button.setEnabled(row > 0)
        self.next_button.setEnabled(row < len(self.sections) - 1)
