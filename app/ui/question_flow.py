"""The main window's side of asking: submit questions, route the streamed answers to the
question panel's slots, keep the History tab and open cited passages.

A mixin of `MainWindow` (it uses its controller, question panel and status bar), kept apart so
the window module stays about layout and wiring.
"""

from __future__ import annotations

import logging
from typing import Any

from app.library.records import section_label
from app.ui.passage_dialog import PassageDialog
from app.ui.question_panel import SINGLE, WITH, WITHOUT, AskOptions

log = logging.getLogger(__name__)


class QuestionFlow:
    """Questions out, answers in; needs ``controller``, ``question_panel``, ``memory_label``,
    ``show_error``, ``_slots`` (answer ticket -> panel slot) and ``_closing`` on the window."""

    def ask(self, options: AskOptions) -> None:
        request = self.controller.answer_request(options.question, options.memories, options.use_memory,
                                                 options.use_retrieval, options.history)
        self._submit_answer(request, SINGLE)

    def compare(self, options: AskOptions) -> None:
        with_req = self.controller.answer_request(options.question, options.memories, True,
                                                  options.use_retrieval)
        without_req = self.controller.answer_request(options.question, options.memories, False,
                                                     options.use_retrieval)
        # One job: both answers are written at the same time, each into its own pane.
        ticket_with, ticket_without = self.controller.compare(with_req, without_req)
        self._slots[ticket_with], self._slots[ticket_without] = WITH, WITHOUT
        self._say_if_waiting()

    def _submit_answer(self, request: Any, slot: str) -> None:
        ticket = self.controller.ask(request)
        self._slots[ticket] = slot
        self._say_if_waiting()

    def _say_if_waiting(self) -> None:
        if self.controller.worker_busy():
            self.question_panel.set_waiting_message("Answering between memorization chunks…")

    def _on_answer_token(self, ticket: int, piece: str) -> None:
        slot = self._slots.get(ticket)
        if slot is not None:
            self.question_panel.append_token(slot, piece)

    def _on_answer_citations(self, ticket: int, passages: list) -> None:
        slot = self._slots.get(ticket)
        if slot is not None:
            self.question_panel.show_citations(slot, passages)

    def _on_answer_finished(self, ticket: int, answer: Any) -> None:
        slot = self._slots.pop(ticket, None)
        self.controller.answer_done(ticket)
        if slot is not None:
            self.question_panel.finish_answer(slot, answer)
        self._load_history()

    def _on_answer_failed(self, ticket: int, message: str) -> None:
        slot = self._slots.pop(ticket, None)
        self.controller.answer_done(ticket)
        if slot is not None:
            self.question_panel.fail_answer(slot, message)

    def _on_memory_changed(self, _name: str | None) -> None:
        self._update_memory_label()
        self._load_history()
        self.controller.warm_memories(self.question_panel.current_memories())

    def _update_memory_label(self) -> None:
        """The status bar names the memory questions will use, and whether it is switched on."""
        names = self.question_panel.current_memories()
        if not names:
            self.memory_label.setText("Memory: none")
        else:
            off = "" if self.question_panel.use_memory.isChecked() else " (off)"
            which = names[0] if len(names) == 1 else f"all {len(names)}, routed"
            self.memory_label.setText(f"Memory: {which}{off}")

    def _load_history(self) -> None:
        if self._closing:
            return
        try:
            entries = self.controller.history(self.question_panel.current_memories())
        except Exception:  # noqa: BLE001 - history is secondary; never block asking
            log.debug("history unavailable", exc_info=True)
            entries = []
        self.question_panel.set_history(entries)

    def open_passage(self, passage: Any) -> PassageDialog | None:
        try:
            ctx = self.controller.passage_context(passage)
        except Exception as exc:  # noqa: BLE001
            from app.ui.taskman import user_message

            self.show_error("Passage", user_message(exc))
            return None
        section = ctx.get("section_title", "")
        if ctx.get("section_position") is not None:  # numbered as the citation and the reader are
            section = section_label(ctx["section_position"] + 1, section)
        dialog = PassageDialog(ctx.get("document_title", ""), section,
                               ctx.get("text", ""), getattr(passage, "text", ""),
                               ctx.get("start"), ctx.get("end"), parent=self)
        dialog.setModal(False)
        dialog.show()
        self._passage_dialog = dialog
        return dialog
