"""The main window's side of memorizing: open the memorize dialog for the chosen documents,
start the job, follow its events in the library list, the dialog and the status bar, and offer
to resume memorizations a crash cut short.

A mixin of `MainWindow` (it uses its controller, library view, question panel,
``memorize_dialogs``, ``refresh`` and ``show_error``), kept apart so the window module stays
about layout and wiring. Where a run is (its counts, speed, curve) is the controller's
`RunState`, so every view, and a progress dialog opened late, says the same.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox

from app.memorize.job import MemorizeEvent
from app.ui.library_actions import confirm
from app.ui.library_rows import MemoryRow, memory_note
from app.ui.memorize_dialog import MemorizeDialog


class MemorizeFlow:
    """Memorize dialogs and progress; the window keeps ``memorize_dialogs`` (memory -> dialog) so
    a progress dialog can be reopened."""

    def memorize_selected(self) -> None:
        ids = self.library_view.selected_document_ids()
        if not ids:
            ids = self.library_view.document_ids()[:1] if len(self.library_view.document_ids()) == 1 else []
        if not ids:
            text = ("Import a book or a chat log first (File ▸ Import, Ctrl+O), then memorize it."
                    if not self.library_view.document_ids() else
                    "Select one or more documents in the library first.")
            QMessageBox.information(self, "Memorize", text)
            return
        self.memorize_documents(ids)

    def memorize_documents(self, ids: list[int]) -> MemorizeDialog:
        c = self.controller
        dialog = MemorizeDialog(ids, c.document_titles(ids), c.memory_names(), c.settings, self,
                                sections=c.document_sections(ids[0]) if len(ids) == 1 else None,
                                estimator=c.memorize_cost, held=c.held_sections,
                                specs_of=c.memorize_specs, describe_held=c.describe_held)
        dialog.start_requested.connect(lambda request: self._start_memorize(dialog, request))
        dialog.pause_requested.connect(self.controller.pause)
        dialog.resume_requested.connect(self.controller.resume)
        dialog.cancel_requested.connect(self.controller.cancel)
        # Opened while the model loads, the cost line knows the measured speed once it is loaded.
        c.model_loaded.connect(dialog.update_cost)
        dialog.setModal(False)
        dialog.show()
        return dialog

    def _start_memorize(self, dialog: MemorizeDialog, request: Any) -> None:
        if request.memory in self.controller.controls:
            self.show_error("Memorize", f"“{request.memory}” is already being memorized.")
            dialog.reject()
            return
        self.memorize_dialogs[request.memory] = dialog
        self.controller.memorize(request)
        self.refresh()

    def show_progress(self, name: str) -> MemorizeDialog:
        dialog = self.memorize_dialogs.get(name)
        if dialog is None:
            dialog = MemorizeDialog([], [], [], self.controller.settings, self)
            dialog.pause_requested.connect(self.controller.pause)
            dialog.resume_requested.connect(self.controller.resume)
            dialog.cancel_requested.connect(self.controller.cancel)
            dialog.show_progress(name)
            self.memorize_dialogs[name] = dialog
        run = self.controller.run_state(name)
        if run is not None and not dialog.is_finished():  # where the run is now, curve and all
            dialog.show_state(run)
        dialog.show()
        dialog.raise_()
        return dialog

    def _on_memorize_event(self, event: MemorizeEvent) -> None:
        if self._closing:
            return
        run = self.controller.run_state(event.memory)
        if run is not None:  # counts kept across events that carry none (paused, resumed)
            self.library_view.update_progress(event.memory, run.status, run.tokens_done, run.tokens_total)
            self.question_panel.set_memory_note(event.memory, memory_note(MemoryRow(
                name=event.memory, status=run.status, tokens_done=run.tokens_done,
                tokens_total=run.tokens_total)))
        dialog = self.memorize_dialogs.get(event.memory)
        if dialog is not None:
            dialog.apply_event(event)
        if event.phase == "memorizing" and event.tokens_total:
            pct = 100 * event.tokens_done / event.tokens_total
            self.statusBar().showMessage(f"Memorizing “{event.memory}”: {pct:.0f}%", 4000)
        elif event.message:
            self.statusBar().showMessage(event.message, 6000)
        # "loading" comes right after the job created the memory's row: show the new memory in
        # the library and the picker at once (questions to it are served between its chunks).
        if event.phase in ("loading", "done", "cancelled", "failed"):
            QTimer.singleShot(0, self.refresh)

    def offer_resume(self) -> None:
        """On start: memorizations cut short by a crash or a kill can continue.

        A memory the user stopped (Stop, closing the app) is "stopped" and is not asked about: it
        resumes from its context menu. The question defaults to No, so a stray Enter never
        restarts a job of many hours.
        """
        names = self.controller.interrupted_memories()
        if not names:
            return
        listing = ", ".join(f"“{n}”" for n in names)
        if confirm(
            self, "Resume memorizing?",
            f"Memorizing {listing} was cut short (the app closed unexpectedly). Resume from the last "
            "checkpoint now? You can also resume later from the memory's menu in the library.",
        ):
            for name in names:
                self.controller.resume_memory(name)
