"""Search, filter and sort the library in the window.

Typing filters the library's rows at once (title, author, kind, the memories holding a book);
Enter searches the documents' text with the library's full-text search (the same as
`locas search`, run off the GUI thread by the controller) and lists the passages found; Esc
goes back to the library. Clicking a column header sorts (see `LibraryView.sort_by`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.answer_view import passage_snippet, passage_title
from app.ui.resources import icon

KINDS = {  # what the kind filter offers -> the document kinds it keeps (None: every row)
    "Everything": None,
    "Books": ("book",),
    "Chat logs": ("chat",),
    "Notes": ("notes",),
    "Not memorized": (),
}


class LibrarySearch(QWidget):
    """The search box and kind filter above the library, and the list of passages found."""

    filter_changed = Signal(str, str)  # text, kind label (a key of KINDS)
    search_requested = Signal(str)  # full-text query (Enter)
    passage_activated = Signal(object)  # a Passage from the results
    results_closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.box = QLineEdit()
        self.box.setPlaceholderText("Filter titles · Enter searches the text (Ctrl+F)")
        self.box.setClearButtonEnabled(True)
        self.box.addAction(icon("ask"), QLineEdit.ActionPosition.LeadingPosition)
        self.box.textChanged.connect(self._changed)
        self.box.returnPressed.connect(self._search)
        self.kind = QComboBox()
        self.kind.addItems(list(KINDS))
        self.kind.setToolTip("Show only these documents")
        self.kind.currentTextChanged.connect(self._changed)
        row.addWidget(self.box, 1)
        row.addWidget(self.kind)
        layout.addLayout(row)
        self.results_label = QLabel("")
        self.results_label.setWordWrap(True)
        self.results = QListWidget()
        self.results.setWordWrap(True)
        self.results.itemActivated.connect(self._activated)
        self.results.itemClicked.connect(self._activated)
        # The results list lives in the window's left stack, not in this widget: each gets its Esc.
        for widget in (self, self.results):
            QShortcut(QKeySequence("Esc"), widget, activated=self.close_results,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)

    def focus(self) -> None:
        self.box.setFocus()
        self.box.selectAll()

    def _changed(self, _value: str = "") -> None:
        self.filter_changed.emit(self.box.text().strip(), self.kind.currentText())

    def _search(self) -> None:
        query = self.box.text().strip()
        if query:
            self.results_label.setText(f"Searching the text for “{query}”…")
            self.results.clear()
            self.search_requested.emit(query)

    def show_results(self, query: str, passages: list[Any]) -> None:
        """Fill the results list (the window shows it in place of the library)."""
        self.results.clear()
        for passage in passages:
            item = QListWidgetItem(f"{passage_title(passage)}\n{passage_snippet(passage, 200)}")
            item.setIcon(icon("book"))
            item.setData(Qt.ItemDataRole.UserRole, passage)
            item.setToolTip("Click or press Enter to read this passage in context")
            self.results.addItem(item)
        found = f"{len(passages)} passage{'s' if len(passages) != 1 else ''}" if passages else "No passage"
        self.results_label.setText(f"{found} found for “{query}”. Esc returns to the library.")
        if passages:
            self.results.setCurrentRow(0)

    def close_results(self) -> None:
        """Esc: back to the whole library. The query was a search of the text, so it must not stay
        behind as a title filter that hides every row."""
        self.results.clear()
        self.results_label.setText("")
        self.box.clear()
        self.results_closed.emit()

    def _activated(self, item: QListWidgetItem) -> None:
        self.passage_activated.emit(item.data(Qt.ItemDataRole.UserRole))


def row_matches(texts: list[str], kind: str, memorized: bool, text: str, kind_label: str) -> bool:
    """Whether a document row passes the filter: every word of ``text`` in its texts, and its kind."""
    wanted = KINDS.get(kind_label)
    if kind_label == "Not memorized" and memorized:
        return False
    if wanted and kind not in wanted:
        return False
    haystack = " ".join(texts).casefold()
    return all(word in haystack for word in text.casefold().split())
