"""Read a cited passage in context: the whole section, the passage highlighted and scrolled to."""

from __future__ import annotations

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTextBrowser,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)


def locate(text: str, passage: str, start: int | None = None, end: int | None = None) -> tuple[int, int]:
    """Character range of the passage inside the section text.

    Stored offsets win when they are consistent; otherwise the passage text is searched for, first
    exactly and then with whitespace normalised (importers may reflow lines). (-1, -1) if absent.
    """
    if start is not None and end is not None and 0 <= start < end <= len(text):
        return start, end
    index = text.find(passage)
    if index >= 0 and passage:
        return index, index + len(passage)
    words = passage.split()
    if not words:
        return -1, -1
    # Whitespace-insensitive search: walk the text matching words in order from the first word.
    head = text.find(words[0])
    while head >= 0:
        pos, ok = head, True
        for word in words:
            nxt = text.find(word, pos)
            if nxt < 0 or text[pos:nxt].strip():
                ok = False
                break
            pos = nxt + len(word)
        if ok:
            return head, pos
        head = text.find(words[0], head + 1)
    return -1, -1


class PassageDialog(QDialog):
    """The section's text with the cited passage highlighted; opens scrolled to the passage."""

    def __init__(self, document_title: str, section_title: str, text: str, passage: str,
                 start: int | None = None, end: int | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"{document_title} — {section_title}" if section_title else document_title)
        layout = QVBoxLayout(self)
        heading = QLabel(f"<b>{_escape(document_title)}</b><br>{_escape(section_title)}")
        layout.addWidget(heading)
        self.view = QTextBrowser()
        self.view.setPlainText(text)
        layout.addWidget(self.view, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)
        self.span = locate(text, passage, start, end)
        self._highlight()
        self.resize(700, 520)

    def _highlight(self) -> None:
        lo, hi = self.span
        if lo < 0:
            return
        cursor = QTextCursor(self.view.document())
        cursor.setPosition(lo)
        cursor.setPosition(hi, QTextCursor.MoveMode.KeepAnchor)
        fmt = QTextCharFormat()
        fmt.setBackground(QColor("#fff1a8"))
        selection = QTextEdit.ExtraSelection()
        selection.cursor = cursor
        selection.format = fmt
        self.view.setExtraSelections([selection])
        # Scroll so the passage is in view: put the cursor at its end, then its start.
        end_cursor = QTextCursor(self.view.document())
        end_cursor.setPosition(hi)
        self.view.setTextCursor(end_cursor)
        self.view.ensureCursorVisible()
        start_cursor = QTextCursor(self.view.document())
        start_cursor.setPosition(lo)
        self.view.setTextCursor(start_cursor)
        self.view.ensureCursorVisible()

    def highlighted_text(self) -> str:
        lo, hi = self.span
        return "" if lo < 0 else self.view.toPlainText()[lo:hi]

    def showEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        super().showEvent(event)
        self._highlight()  # layout is final only once shown; scroll again


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
