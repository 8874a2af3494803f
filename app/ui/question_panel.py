"""The question panel on the right of the main window.

Pick a memory, type a question, watch the answer stream in, then read the cited passages or the
history of earlier questions. "Compare" shows the answer with and without the memory side by
side. The panel holds no job logic: it emits what the user asked for and the main window feeds
tokens and results back through `append_token` / `finish_answer`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.conversation import Conversation
from app.ui.answer_text import answer_status, history_citations, history_label
from app.ui.answer_view import AnswerView, passage_snippet, passage_title
from app.ui.question_box import QuestionEdit
from app.ui.resources import icon
from app.ui.widgets import ElidedLabel

NO_MEMORY = "No memory (the plain model)"
ALL_MEMORIES = "All memories (each question goes to the one that fits it)"
SINGLE, WITH, WITHOUT = "single", "with", "without"


@dataclass
class AskOptions:
    """What the user asked for; the main window turns it into an
    `app.answer.pipeline.AnswerRequest`."""

    question: str
    memories: list[str]  # empty: the plain model; several: the answer job routes among them
    use_memory: bool
    use_retrieval: bool
    history: list[tuple[str, str]] = field(default_factory=list)  # earlier turns (follow-ups)


class QuestionPanel(QWidget):
    ask_requested = Signal(object)  # AskOptions
    compare_requested = Signal(object)  # AskOptions (use_memory ignored: both are asked)
    stop_requested = Signal()
    memory_changed = Signal(object)  # memory name or None
    passage_activated = Signal(object)  # the Passage object of a citation
    history_activated = Signal(object)  # the history entry (dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)

        top = QHBoxLayout()
        top.addWidget(QLabel("Memory:"))
        self.memory_combo = QComboBox()
        self.memory_combo.setMinimumContentsLength(18)
        self.memory_combo.addItem(icon("notes"), NO_MEMORY, None)
        self.memory_combo.currentIndexChanged.connect(self._memory_picked)
        top.addWidget(self.memory_combo, 1)
        self.use_memory = QCheckBox("Memory on")
        self.use_memory.setChecked(True)
        self.use_memory.setToolTip("Answer with the memory switched on (off: the plain model)")
        self.use_retrieval = QCheckBox("Retrieval on")
        self.use_retrieval.setChecked(True)
        self.use_retrieval.setToolTip("Also give the model passages found in the library")
        layout.addLayout(top)  # the picker has the row's width: memory names are long

        self.question = QuestionEdit()
        self.question.setMaximumHeight(70)
        self.question.submitted.connect(self._ask)
        layout.addWidget(self.question)

        buttons = QHBoxLayout()
        self.ask_button = QPushButton(icon("ask"), "Ask")
        self.ask_button.setObjectName("primary")
        self.compare_button = QPushButton(icon("compare"), "Compare")
        self.stop_button = QPushButton(icon("stop"), "Stop")
        self.stop_button.setEnabled(False)
        self.ask_button.clicked.connect(self._ask)
        self.compare_button.clicked.connect(self._compare)
        self.stop_button.clicked.connect(self._stop)
        self.status = ElidedLabel("")
        self.status.setStyleSheet("color: #6b7280")
        buttons.addWidget(self.ask_button)
        buttons.addWidget(self.compare_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        buttons.addWidget(self.use_memory)
        buttons.addWidget(self.use_retrieval)
        layout.addLayout(buttons)
        layout.addWidget(self.status)  # a line of its own: the timing lines are long
        # Compare and Stop from the keyboard, anywhere in the panel.
        for seq in ("Ctrl+Shift+Return", "Ctrl+Shift+Enter"):
            QShortcut(QKeySequence(seq), self, activated=self._compare,
                      context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        QShortcut(QKeySequence("Esc"), self, activated=self._stop,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.ask_button.setToolTip("Ask (Enter in the question box)")
        self.compare_button.setToolTip("Answer with and without the memory, side by side (Ctrl+Shift+Enter)")
        self.stop_button.setToolTip("Stop answering (Esc)")

        self.single = AnswerView("Answer")
        # Follow-up questions: the panel keeps a conversation (the turns live in the core's
        # Conversation); New conversation forgets them, as does picking another memory.
        self.conversation = Conversation()
        self._asked = ""  # the question of the running single answer
        self.new_conversation_button = QPushButton(icon("notes"), "New conversation")
        self.new_conversation_button.setToolTip("Forget the earlier questions (Ctrl+Shift+N)")
        self.new_conversation_button.setEnabled(False)
        self.new_conversation_button.clicked.connect(self.new_conversation)
        self.single.header.addWidget(self.new_conversation_button)
        QShortcut(QKeySequence("Ctrl+Shift+N"), self, activated=self.new_conversation,
                  context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.with_view = AnswerView("With memory")
        self.without_view = AnswerView("Without memory")
        compare = QSplitter(Qt.Orientation.Horizontal)
        compare.addWidget(self.with_view)
        compare.addWidget(self.without_view)
        self.answers = QStackedWidget()
        self.answers.addWidget(self.single)
        self.answers.addWidget(compare)

        self.citations = QListWidget()
        self.citations.setObjectName("citationList")
        self.citations.setWordWrap(True)
        self.citations.itemClicked.connect(self._citation_clicked)
        self.history = QListWidget()
        self.history.setWordWrap(True)
        self.history.itemClicked.connect(self._history_clicked)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.citations, "Cited passages")
        self.tabs.addTab(self.history, "History")

        split = QSplitter(Qt.Orientation.Vertical)
        self.splitter = split  # the window remembers where it was left
        split.addWidget(self.answers)
        split.addWidget(self.tabs)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        self._views = {SINGLE: self.single, WITH: self.with_view, WITHOUT: self.without_view}
        self._running: set[str] = set()
        self._asked_at: dict[str, float] = {}  # slot -> perf_counter() when asked
        self._first_word_at: dict[str, float] = {}  # slot -> when its first piece came
        self._prefix = ""  # the conversation shown above the running single answer
        self._filled = False  # the picker's first fill picks the first memory
        self.preferred_memory: str | None = None  # or the one left picked ('' = the plain model)
        self.busy_text = "Answering…"  # the window says "Loading the model…" until it is loaded
        self.single.clear("The answer appears here, word by word.")

    # -- memories -----------------------------------------------------------------------------
    def set_memories(self, names: list[str], current: str | None = None,
                     notes: dict[str, str] | None = None) -> None:
        """Refill the picker, keeping the current choice (a memory, or all of them) when it still exists.

        The picker changes only when the user picks: a new memory appearing never takes over the
        current choice. Only the window's first fill picks the first memory (what people ask about).
        ``notes`` mark memories that are not finished ("memorizing, 3%"), so a barely-memorized
        memory never looks ready.
        """
        keep = current if current is not None else self.current_memory()
        keep_all = current is None and isinstance(self.memory_combo.currentData(), tuple)
        first_fill = not self._filled
        self._filled = True
        notes = notes or {}
        self.memory_combo.blockSignals(True)
        self.memory_combo.clear()
        self.memory_combo.addItem(icon("notes"), NO_MEMORY, None)
        for name in names:
            note = notes.get(name)
            self.memory_combo.addItem(icon("memory"), f"{name} ({note})" if note else name, name)
        if len(names) > 1:
            # A shelf: every memory attached, and the answer job picks per question (routing.py).
            # The item holds the names as a tuple, which no single memory's name can equal.
            self.memory_combo.addItem(icon("memory"), ALL_MEMORIES, tuple(names))
        index = self.memory_combo.findData(keep) if keep else -1
        if keep_all and len(names) > 1:
            index = self.memory_combo.count() - 1
        elif index < 0 and names and first_fill and current is None and keep is None:
            # The memory picked when the window was last closed; else the first one.
            remembered = self.preferred_memory
            index = 1 if remembered is None else max(self.memory_combo.findData(remembered or None), 0)
        self.memory_combo.setCurrentIndex(max(index, 0))
        self.memory_combo.blockSignals(False)
        self.memory_changed.emit(self.current_memory())

    def set_memory_note(self, name: str, note: str) -> None:
        """A running memorization's state changed ("memorizing, 40% memorized", "paused, …"):
        the picker says what the library says, without refilling the list."""
        index = self.memory_combo.findData(name)
        if index >= 0:
            self.memory_combo.setItemText(index, f"{name} ({note})" if note else name)

    def rename_memory(self, old: str, new: str) -> None:
        """A memory was renamed: the picker follows it instead of falling back to the plain model."""
        index = self.memory_combo.findData(old)
        if index >= 0:
            self.memory_combo.setItemData(index, new)
            self.memory_combo.setItemText(index, new)

    def select_memory(self, name: str | None) -> None:
        index = self.memory_combo.findData(name) if name else 0
        if index >= 0:
            self.memory_combo.setCurrentIndex(index)

    def select_all_memories(self) -> bool:
        """Pick the shelf item; False when fewer than two memories exist."""
        index = self.memory_combo.findText(ALL_MEMORIES)
        if index >= 0:
            self.memory_combo.setCurrentIndex(index)
        return index >= 0

    def current_memory(self) -> str | None:
        """The one memory picked; None for the plain model or for all memories."""
        data = self.memory_combo.currentData()
        return data if isinstance(data, str) else None

    def current_memories(self) -> list[str]:
        """The memories a question will be asked with: none, one, or the whole shelf."""
        data = self.memory_combo.currentData()
        return list(data) if isinstance(data, tuple) else [data] if data else []

    # -- asking -------------------------------------------------------------------------------
    def options(self) -> AskOptions:
        return AskOptions(
            question=self.question.toPlainText().strip(),
            memories=self.current_memories(),
            use_memory=self.use_memory.isChecked(),
            use_retrieval=self.use_retrieval.isChecked(),
        )

    def _memory_picked(self, _index: int) -> None:
        """Another memory (or none) answers from now on: earlier turns were not its answers."""
        if not self._running:
            self.new_conversation()
        self.memory_changed.emit(self.current_memory())

    def new_conversation(self) -> None:
        if self._running:
            return
        self.conversation.clear()
        self.new_conversation_button.setEnabled(False)
        if self.answers.currentIndex() == 0:
            self.single.clear("The answer appears here, word by word.")
        self._sync_title()

    def _sync_title(self, plain: bool = False) -> None:
        turns = len(self.conversation)
        follow = f" · follow-up to {turns} earlier question{'s' if turns > 1 else ''}" if turns else ""
        self.single.title.setText("Answer" + (" (plain model)" if plain else "") + follow)

    def _ask(self) -> None:
        opts = self.options()
        if not opts.question or self._running:
            return
        opts.history = self.conversation.turns_for_prompt()
        self.answers.setCurrentIndex(0)
        self._sync_title(plain=not (opts.memories and opts.use_memory))
        self._asked = opts.question
        self.begin(SINGLE, prefix=self.conversation.transcript() + f"You: {opts.question}\n"
                   if len(self.conversation) else "")
        self.set_citations([])  # no count left over from the last answer
        self.ask_requested.emit(opts)

    def _compare(self) -> None:
        opts = self.options()
        if not opts.question or self._running:
            return
        self.answers.setCurrentIndex(1)
        self.begin(WITH)
        self.begin(WITHOUT)
        self.set_citations([])  # no count left over from the last answer
        self.compare_requested.emit(opts)

    def _stop(self) -> None:
        if self._running:
            self.stop_requested.emit()

    def begin(self, slot: str, prefix: str = "") -> None:
        self._asked_at[slot] = time.perf_counter()  # the answer's time counts from the question
        self._first_word_at.pop(slot, None)
        self._views[slot].set_status("")
        self._views[slot].clear("Thinking…", prefix=prefix)
        self._prefix = prefix if slot == SINGLE else getattr(self, "_prefix", "")
        self._running.add(slot)
        self._sync_buttons()

    def append_token(self, slot: str, piece: str) -> None:
        self._first_word_at.setdefault(slot, time.perf_counter())
        self._views[slot].append(piece)

    def show_citations(self, slot: str, passages: list[Any]) -> None:
        """The passages retrieved for a running answer, shown before its first word."""
        if slot != WITHOUT or self.citations.count() == 0:
            self.set_citations(passages)

    def finish_answer(self, slot: str, answer: Any) -> None:
        """Show the final text (tidier than the stream), its citations and how it went."""
        self._running.discard(slot)
        view = self._views[slot]
        prefix = self._prefix if slot == SINGLE else ""
        text = getattr(answer, "text", "") or ""
        # an answer read off the passage (a date), not written by the model, says so
        label = "Quoted from the text: " if getattr(answer, "chosen", "") == "quote" else ""
        if text:
            view.set_text(prefix + label + text)
            # an abstention carries a support only when a passage's line backs it ("It says this
            # of Melanie, not of Caroline [1]", app/answer/attribution.py;
            # grounding.Grounded.support)
            cited, support = getattr(answer, "cited", None), getattr(answer, "support", None)
            if cited is not None and support:
                passage = answer.citations[cited].text
                view.show_support(f"Supported by [{cited + 1}]:", " ".join(passage[support[0]:support[1]].split()))
        elif getattr(answer, "stopped", False):
            view.set_text(prefix + "(stopped before the first word)")
        if slot == SINGLE and not getattr(answer, "stopped", False):
            self.conversation.add(self._asked, text)  # the next question may follow up on it
            self.new_conversation_button.setEnabled(len(self.conversation) > 0)
        if slot in (SINGLE, WITH) or self.citations.count() == 0:
            self.set_citations(getattr(answer, "citations", []) or [])
        now = time.perf_counter()
        asked = self._asked_at.pop(slot, None)
        first = self._first_word_at.pop(slot, None)
        line = answer_status(answer, total=now - asked if asked is not None else None,
                             first_word=first - asked if first is not None and asked is not None else None)
        if slot == SINGLE:
            self.status.setText(line)
        else:  # Compare: each answer says how it went under its own pane
            view.set_status(line)
            if not self._running:
                self.status.setText("")
        self._sync_buttons()

    def fail_answer(self, slot: str, message: str) -> None:
        self._running.discard(slot)
        self._views[slot].set_text(message)
        self.status.setText("")
        self._sync_buttons()

    def is_answering(self) -> bool:
        return bool(self._running)

    def answer_text(self, slot: str = SINGLE) -> str:
        return self._views[slot].plain_text()

    def set_waiting_message(self, text: str) -> None:
        self.status.setText(text)

    def _sync_buttons(self) -> None:
        busy = bool(self._running)
        self.ask_button.setEnabled(not busy)
        self.compare_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        if busy:
            self.status.setText(self.busy_text)

    # -- citations and history ----------------------------------------------------------------
    def set_citations(self, passages: list[Any]) -> None:
        self.citations.clear()
        for i, passage in enumerate(passages, 1):
            item = QListWidgetItem(f"[{i}] {passage_title(passage)}\n{passage_snippet(passage)}")
            item.setData(Qt.ItemDataRole.UserRole, passage)
            item.setIcon(icon("book"))
            item.setToolTip("Click to read this passage in context")
            self.citations.addItem(item)
        self.tabs.setTabText(0, f"Cited passages ({len(passages)})")

    def set_history(self, entries: list[dict]) -> None:
        """Earlier questions to this memory, newest first."""
        self.history.clear()
        for entry in entries:
            item = QListWidgetItem(history_label(entry))
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setToolTip("Click to show this answer and its cited passages again")
            self.history.addItem(item)
        self.tabs.setTabText(1, f"History ({len(entries)})")

    def _citation_clicked(self, item: QListWidgetItem) -> None:
        self.passage_activated.emit(item.data(Qt.ItemDataRole.UserRole))

    def _history_clicked(self, item: QListWidgetItem) -> None:
        entry = item.data(Qt.ItemDataRole.UserRole)
        self.answers.setCurrentIndex(0)
        self.question.setPlainText(entry.get("question", ""))
        self.single.title.setText("Answer (from history)")
        self.single.set_text(str(entry.get("answer", "")))
        self.conversation.clear()  # a follow-up now continues from this earlier answer
        self.conversation.add(entry.get("question", ""), str(entry.get("answer", "")))
        self.new_conversation_button.setEnabled(len(self.conversation) > 0)
        self.set_citations(history_citations(entry))
        self.status.setText(history_label(entry).split("\n", 1)[0])
        self.history_activated.emit(entry)
