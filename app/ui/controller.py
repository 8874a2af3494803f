"""The GUI's application controller: every core call the windows make goes through here.

No widgets here. Work leaves the GUI thread one way, the task manager (app/ui/taskman.py):
short file and library work on its task thread, model work on the engine worker (memorize and
answer through `EngineBridge`, which streams their events); every outcome comes back as a
callback on the GUI thread, and every failure as a sentence. The GUI thread's own `Library`
connection serves only light reads (the lists shown in the window), never writes.

Windows connect to its signals and call its methods; tests can drive it without a window.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.answer.pipeline import AnswerRequest
from app.devices import describe_device
from app.errors import JobError
from app.library import DocumentInfo, Library
from app.memorize.job import (
    JobControl,
    MemorizeEvent,
    MemorizeRequest,
    choose_specs,
    resume_request,
    stored_specs,
)
from app.memorize.progress import RunState
from app.settings import Settings, load_settings, save_settings
from app.ui.bridge import EngineBridge
from app.ui.controller_memories import MemoryFileActions
from app.ui.library_rows import DocumentRow, MemoryRow
from app.ui.taskman import TaskManager
from locas_engine.spec import Specs

log = logging.getLogger(__name__)

RUNNING = ("queued", "running", "paused")


def _default_worker():
    from app.worker import EngineWorker

    return EngineWorker()


class AppController(MemoryFileActions, QObject):
    library_changed = Signal()
    memory_renamed = Signal(str, str)  # old name, new name (before library_changed)
    document_imported = Signal(object)  # DocumentRow of the new document
    import_failed = Signal(str)  # a sentence naming the file and the cause
    memorize_event = Signal(object)  # MemorizeEvent
    memorize_finished = Signal(object)  # MemorizeOutcome
    memorize_failed = Signal(str, str)  # memory, message
    model_loaded = Signal(str, str)  # model name, the device in words ("CPU (2 threads)")
    model_loading = Signal(str)  # the model setting being loaded: shown until loaded or failed
    model_failed = Signal(str)
    message = Signal(str)  # a short status-bar message
    error = Signal(str, str)  # title, message for a message box

    def __init__(self, worker_factory: Callable[[], Any] = _default_worker,
                 settings: Settings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings or load_settings()
        # The worker first: its Session marks memories left running by a dead process as
        # interrupted, and the GUI's first read should already see that.
        self.worker = worker_factory()
        self.library = Library()
        self.tasks = TaskManager(worker=self.worker, parent=self)
        self.bridge = EngineBridge(self.tasks, self)
        self.controls: dict[str, JobControl] = {}  # running memorizations by memory name
        self.runs: dict[str, RunState] = {}  # and where each one is, from its events
        self.answer_controls: dict[int, JobControl] = {}
        self.model_name: str | None = None
        # The loaded model's device as torch names it ('cpu', 'cuda:0'): the key under which
        # app/memorize/estimate.py stores speeds. The status bar's words for it come with model_loaded.
        self.model_device: str | None = None
        self.bridge.memorize_event.connect(self._on_memorize_event)
        self.bridge.memorize_finished.connect(self._on_memorize_finished)
        self.bridge.memorize_failed.connect(self._on_memorize_failed)

    # -- reads (GUI thread, light) ----------------------------------------------------------------
    def rows(self) -> tuple[list[DocumentRow], list[MemoryRow]]:
        """The library as view rows: documents with the memories holding them (and how much of
        each), then memories with what they hold (app.memories.holdings)."""
        from app.memories import holdings

        documents = self.library.list_documents()
        memories = []
        for m in self.library.list_memories():
            run = self.runs.get(m["name"])
            if run is not None:  # the library holds the last checkpoint; the events are newer
                m = {**m, "status": run.status, "tokens_done": run.tokens_done or m.get("tokens_done"),
                     "tokens_total": run.tokens_total or m.get("tokens_total")}
            memories.append(m)
        held = {m["name"]: holdings(self.library, m["name"]) for m in memories}
        mem_rows = [MemoryRow(
            name=m["name"], status=m.get("status") or "done",
            tokens_done=m.get("tokens_done") or 0, tokens_total=m.get("tokens_total") or 0,
            sources=[h.title if h.whole else f"{h.title} ({h.what('chapters')})" for h in held[m["name"]]],
            message=m.get("message") or "", tokens_held=sum(h.tokens for h in held[m["name"]]),
        ) for m in memories]
        return [self._doc_row(d, held) for d in documents], mem_rows

    @staticmethod
    def _doc_row(d: DocumentInfo, held: dict[str, list]) -> DocumentRow:
        """A document's row: the memories holding (part of) it, from {memory: its holdings}."""
        memories: list[str] = []
        partly: dict[str, tuple[str, str]] = {}
        for name, holds in held.items():
            for h in holds:
                if h.document_id != d.id or h.status == "deleted":
                    continue
                memories.append(name)
                if not h.whole:
                    short = f"{len(h.held)} of {h.sections} chapters" if h.held else "nothing yet"
                    partly[name] = (short, h.describe("chapters"))
        return DocumentRow(id=d.id, title=d.title or "(untitled)", kind=d.kind or "book",
                           authors=list(d.authors), characters=d.characters or 0, memories=memories,
                           partly=partly)

    def document_titles(self, ids: list[int]) -> list[str]:
        docs = [self.library.get_document(i) for i in ids]
        return [d.title if d else f"#{i}" for i, d in zip(ids, docs, strict=True)]

    def document_sections(self, doc_id: int) -> list[tuple[int, str, int]]:
        """(section id, numbered title, characters) of a document's chapters, for the chapter
        picker: numbered as `locas list --sections`, the reader and citations number them."""
        return [(s.id, s.label, s.characters) for s in self.library.sections(doc_id)]

    def held_sections(self, memory: str, doc_id: int) -> set[int]:
        from app.memorize.sections import held_section_ids

        return held_section_ids(self.library, memory, doc_id)

    def describe_held(self, memory: str, doc_id: int) -> str:
        """What the memory holds of the document, in words, for the chapter picker."""
        from app.memories import holdings

        held = next((h for h in holdings(self.library, memory) if h.document_id == doc_id), None)
        if held is None or not (held.held or held.pending):
            return f"“{memory}” holds none of these chapters yet."
        return f"“{memory}” holds {held.describe('chapters')}."

    def memorize_cost(self, request: MemorizeRequest) -> str:
        """The token count and time a memorize request would take here, said before it starts:
        tokens from the chosen text's characters, speed from earlier runs
        (app/memorize/estimate.py)."""
        from app.memorize.estimate import estimate, tokens_from_characters
        from app.memorize.sections import sections_to_memorize

        characters = held = 0
        for doc_id in request.document_ids:  # what the memory holds already is not trained again
            chosen = (request.section_ids or {}).get(doc_id)
            new = sections_to_memorize(self.library, request.memory, doc_id, chosen)
            characters += sum(s.characters + len(s.title) for s in new)
            held += len(sections_to_memorize(self.library, None, doc_id, chosen)) - len(new)
            held += chosen == []  # the dialog left out the ticked chapters the memory holds
        if held and characters == 0:
            return f"nothing: “{request.memory}” already holds what is chosen."
        device = self.model_device or "cpu"
        try:  # chosen exactly as the job will choose them
            own = stored_specs(self.library.get_memory(request.memory), device.split(":")[0])
            specs = choose_specs(self.settings.specs, request, own)
        except JobError as exc:  # the job would refuse them: say why before Start
            return str(exc)
        guess = estimate(tokens_from_characters(characters), self.model_name or "", device, specs,
                         tokens_exact=False)
        return guess.describe()

    def memorize_specs(self, memory: str) -> Specs:
        """What a Memorize dialog starts from: the memory's own specs if it has them, else the
        user's defaults (a damaged spec file is the job's to report)."""
        try:
            return stored_specs(self.library.get_memory(memory)) or self.settings.specs
        except JobError:
            return self.settings.specs

    def memory_names(self) -> list[str]:
        return [m["name"] for m in self.library.list_memories()]

    def interrupted_memories(self) -> list[str]:
        return [m["name"] for m in self.library.list_memories() if m.get("status") == "interrupted"]

    def history(self, memories: list[str] | str | None, limit: int = 50) -> list[dict]:
        """Questions asked of these memories, newest first: none (the plain model), one, or a
        shelf (answers routed among its memories)."""
        if isinstance(memories, str):
            memories = [memories]
        memories = list(memories or [])
        if len(memories) == 1:
            entries = self.library.history(memory=memories[0], limit=limit)
        else:
            shelf = set(memories)

            def asked_of(h: dict) -> bool:
                used = set((h.get("options") or {}).get("memories") or [])
                if not shelf:
                    return h.get("memory") is None and not used
                shelf_asked = "route" in (h.get("options") or {}) or len(used) > 1
                return bool(used) and used <= shelf and shelf_asked

            entries = [h for h in self.library.history() if asked_of(h)][-limit:]
        return list(reversed(entries))

    def memory_summary(self, name: str) -> dict:
        from app.memories import memory_summary

        return memory_summary(self.library, name)

    def passage_context(self, passage: Any) -> dict:
        """The section a cited passage comes from, for the 'read in context' dialog."""
        return self.library.passage_context(passage)

    # -- import (task thread) ---------------------------------------------------------------------
    def import_files(self, paths: list[str]) -> None:
        """Import each file in the background; each one appears as soon as it is in the library."""
        for path in paths:
            self.message.emit(f"Importing {Path(path).name}…")

            self.tasks.run(lambda path=path: self.tasks.library().import_file(path), on_done=self._imported,
                           on_error=self.import_failed.emit)

    def _imported(self, info: DocumentInfo) -> None:
        # A re-imported book is the same document: it keeps the memories that hold it.
        from app.memories import holdings

        held = {m["name"]: holdings(self.library, m["name"]) for m in self.library.memories_holding(info.id)}
        self.document_imported.emit(self._doc_row(info, held))
        if info.duplicate:
            self.message.emit(f"“{info.title}” is already in the library.")
        else:
            self.message.emit(f"Imported “{info.title}”.")

    def search_library(self, query: str, on_done: Callable[[list], None], limit: int = 50) -> None:
        """The library's full-text search (as `locas search`), on the task thread."""
        self.tasks.run(lambda: self.tasks.library().search(query, limit=limit), on_done=on_done,
                       on_error=lambda msg: self.error.emit("Search failed", msg))

    def quick_note(self, text: str, memory: str | None) -> None:
        """Store a note and memorize it right away (on the engine worker: it needs the model)."""
        from app.notes import add_quick_note

        self.message.emit("Saving the note…" if memory is None else f"Memorizing the note into “{memory}”…")
        self.tasks.run_on_engine(lambda s: add_quick_note(s, text, memory=memory),
                         on_done=lambda _note: (self.library_changed.emit(),
                                                self.message.emit("Note saved.")),
                         on_error=lambda msg: self.error.emit("Quick note failed", msg))

    # -- library management -----------------------------------------------------------------------
    def _library_op(self, fn: Callable[[Library], Any], title: str, done: str | None = None,
                    after: Callable[[], None] | None = None) -> None:
        def ok(_result: Any) -> None:
            if after is not None:
                after()
            self.library_changed.emit()
            if done:
                self.message.emit(done)

        self.tasks.run(lambda: fn(self.tasks.library()), on_done=ok,
                       on_error=lambda msg: self.error.emit(title, msg))

    def rename_document(self, doc_id: int, title: str) -> None:
        self._library_op(lambda lib: lib.rename_document(doc_id, title), "Rename failed", "Renamed.")

    def delete_document(self, doc_id: int) -> None:
        self._library_op(lambda lib: lib.delete_document(doc_id), "Delete failed", "Deleted.")

    # -- model and settings -------------------------------------------------------------------------
    def load_model(self) -> None:
        """Load the configured model on the worker now, so the first question does not wait."""
        self.model_loading.emit(self.settings.model)

        def loaded(info: tuple[str, str, str]) -> None:
            self.model_name, self.model_device, label = info
            self.model_loaded.emit(self.model_name, label)
            self.message.emit("Model ready.")

        def load(session) -> tuple[str, str, str]:
            bb = session.backbone()
            # What is really in use, not the setting: its key for measured speeds, and its words.
            return bb.name, str(bb.device), describe_device(bb.device)

        self.tasks.run_on_engine(load, on_done=loaded, on_error=self.model_failed.emit)

    def warm_memories(self, names: list[str]) -> None:
        """Attach the memories picked for the next question while the engine is idle: loading a
        memory file took a second of the first question's wait. Nothing is said if one cannot
        be loaded (still memorizing, damaged): asking says why."""
        if not names or self.model_name is None or self.worker_busy():
            return

        def attach(session) -> None:
            for name in names:
                try:
                    session.memory(name)
                except Exception:  # noqa: BLE001 - the question will say it in a sentence
                    log.debug("memory %s not attached ahead of a question", name, exc_info=True)

        self.tasks.run_on_engine(attach)

    def apply_settings(self, settings: Settings) -> None:
        """Save, and hand the worker's session the new settings (it reloads the model if needed)."""
        old = self.settings
        self.settings = settings
        save_settings(settings)
        new = dataclasses.replace(settings)
        self.tasks.run_on_engine(lambda s: setattr(s, "settings", new))
        if (old.model, old.device) != (settings.model, settings.device):
            self.model_name = self.model_device = None
            self.load_model()

    # -- memorize -----------------------------------------------------------------------------------
    def memorize(self, request: MemorizeRequest) -> JobControl:
        name = request.memory
        control = self.bridge.memorize(request)
        self.controls[name] = control
        row = self.library.get_memory(name)  # a resumed memory starts where its checkpoint is
        self.runs[name] = RunState(tokens_done=(row or {}).get("tokens_done") or 0,
                                   tokens_total=(row or {}).get("tokens_total") or 0)
        self._on_memorize_event(MemorizeEvent(memory=name, phase="queued",
                                              message="Waiting for the engine…"))
        return control

    def resume_memory(self, name: str) -> None:
        """Continue an interrupted memory from its checkpoint."""
        self.message.emit(f"Resuming “{name}”…")
        self.tasks.run_on_engine(lambda s: resume_request(s, name), on_done=self.memorize,
                         on_error=lambda msg: self.error.emit("Cannot resume", msg))

    def pause(self, name: str) -> None:
        if name in self.controls:
            self.controls[name].pause()

    def resume(self, name: str) -> None:
        """Resume a paused run. The job wakes within a moment but says so only after its next
        chunk (seconds to minutes): say at once that it is memorizing again."""
        if name in self.controls:
            self.controls[name].resume()
            self._on_memorize_event(MemorizeEvent(memory=name, phase="memorizing"))

    def cancel(self, name: str) -> None:
        if name in self.controls:
            self.controls[name].cancel()

    def running_memories(self) -> list[str]:
        return list(self.controls)

    def worker_busy(self) -> bool:
        return bool(self.controls)

    def _on_memorize_event(self, event: MemorizeEvent) -> None:
        self.runs.setdefault(event.memory, RunState()).update(event)
        self.memorize_event.emit(event)

    def run_state(self, name: str) -> RunState | None:
        """Where the running memorization of ``name`` is (None when none runs)."""
        return self.runs.get(name)

    def _on_memorize_finished(self, outcome: Any) -> None:
        self.controls.pop(outcome.memory, None)
        self.runs.pop(outcome.memory, None)
        self.memorize_finished.emit(outcome)
        self.library_changed.emit()

    def _on_memorize_failed(self, name: str, message: str) -> None:
        self.controls.pop(name, None)
        self.runs.pop(name, None)
        self.memorize_failed.emit(name, message)
        self.library_changed.emit()

    # -- answer -------------------------------------------------------------------------------------
    def answer_request(self, question: str, memories: list[str], use_memory: bool,
                       use_retrieval: bool, history: list[tuple[str, str]] | None = None) -> AnswerRequest:
        return AnswerRequest(
            question=question, memories=list(memories), use_memory=use_memory,
            use_retrieval=use_retrieval, passages=self.settings.passages,
            max_new_tokens=self.settings.max_new_tokens, history=list(history or []),
        )

    def ask(self, request: AnswerRequest) -> int:
        ticket, control = self.bridge.ask(request)
        self.answer_controls[ticket] = control
        return ticket

    def compare(self, request_a: AnswerRequest, request_b: AnswerRequest) -> tuple[int, int]:
        """Both answers written at once; one ticket per side, and Stop stops both."""
        ticket_a, ticket_b, control = self.bridge.compare(request_a, request_b)
        self.answer_controls[ticket_a] = self.answer_controls[ticket_b] = control
        return ticket_a, ticket_b

    def stop_answers(self) -> None:
        for control in self.answer_controls.values():
            control.cancel()

    def answer_done(self, ticket: int) -> None:
        self.answer_controls.pop(ticket, None)

    # -- shutdown -----------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop running work (a memorization saves a checkpoint as it stops) and close connections."""
        for control in list(self.controls.values()) + list(self.answer_controls.values()):
            control.cancel()
        try:
            self.worker.shutdown()
        finally:
            self.tasks.shutdown()
            self.library.close()


def process_memory_mb() -> float | None:
    """Resident memory of this process in MB (Linux /proc; None elsewhere, shown as blank)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError, AttributeError):
        return None


__all__ = ["AppController", "JobError", "process_memory_mb"]
