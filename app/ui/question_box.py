"""The question box: Enter asks, Shift+Enter starts a new line, Tab moves on, as in chat apps."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget

ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class QuestionEdit(QPlainTextEdit):
    """A plain text box that sends on Enter (Ctrl+Enter too) and wraps on Shift+Enter."""

    submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)  # Tab leaves the box (a question has no use for a tab)
        self.setPlaceholderText("Ask a question about what you memorized…  "
                                "(Enter asks, Shift+Enter starts a new line)")

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        if event.key() in ENTER_KEYS:
            mods = event.modifiers()
            if mods & Qt.KeyboardModifier.ShiftModifier and not mods & Qt.KeyboardModifier.ControlModifier:
                self.insertPlainText("\n")
            elif not mods & (Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.MetaModifier):
                self.submitted.emit()
            else:
                event.ignore()  # leave other combinations to the window's shortcuts
            return
        super().keyPressEvent(event)
