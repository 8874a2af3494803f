"""The answer area of the question panel, and how a cited passage is named in a list."""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

from app.library.records import section_label


def passage_title(passage: Any) -> str:
    """'Book title · 4. Chapter' for a citation, the section numbered as everywhere else
    (`locas list --sections`, the chapter picker, the reader), whatever optional fields the
    passage carries."""
    title = getattr(passage, "document_title", None) or getattr(passage, "title", None)
    section = getattr(passage, "section_title", None)
    if section and title and section.strip().casefold() == title.strip().casefold():
        section = None  # a one-section text: "aesop-fables", not "aesop-fables · aesop-fables"
    number = getattr(passage, "section_number", None)
    if section and number is not None:
        section = section_label(number, section)
    return " · ".join(p for p in (title, section) if p) or "passage"


def passage_snippet(passage: Any, limit: int = 160) -> str:
    text = " ".join(str(getattr(passage, "text", "")).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class AnswerView(QWidget):
    """A titled read-only text area that grows as tokens stream in."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.title = QLabel(title)
        self.title.setObjectName("sectionTitle")
        self.header = QHBoxLayout()  # the title, and room for buttons on its right
        self.header.addWidget(self.title, 1)
        self.text = QTextBrowser()
        self.text.setObjectName("answerView")
        self.text.setOpenLinks(False)
        # How this answer went (time, speed): each of Compare's two answers has its own line.
        self.status = QLabel("")  # wrapped: half a panel wide, it is read whole
        self.status.setWordWrap(True)
        self.status.setObjectName("answerStatus")
        self.status.setStyleSheet("color: #6b7280")
        self.status.hide()
        layout.addLayout(self.header)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.status)

    def clear(self, placeholder: str = "", prefix: str = "") -> None:
        """Empty the view; ``prefix`` (the conversation so far) stays above the coming answer."""
        self.text.clear()
        self.text.setPlaceholderText(placeholder)
        if prefix:
            self.text.setPlainText(prefix)

    def append(self, piece: str) -> None:
        """Insert at the end without re-laying-out the whole document (cheap per token)."""
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        self.text.setTextCursor(cursor)
        self.text.ensureCursorVisible()

    def set_status(self, text: str) -> None:
        self.status.setText(text)
        self.status.setVisible(bool(text))

    def set_text(self, text: str) -> None:
        self.text.setPlainText(text)

    def show_support(self, label: str, sentence: str) -> None:
        """Below the answer, the sentence of its passage that supports it, highlighted, so that
        the reader can check the answer in one glance (app/answer/grounding.py)."""
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(f"<br><br><span style='color:palette(mid)'>{html.escape(label)}</span><br>"
                          f"<span style='background-color:#fff2a8; color:#222'>{html.escape(sentence)}</span>")

    def plain_text(self) -> str:
        return self.text.toPlainText()
