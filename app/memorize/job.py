"""Memorizing documents, the long job a user asks of Locas Reader (answering a question, the
other, is app/answer/pipeline.py).

Both are plain functions over a Session, so the command line calls them directly and the GUI's
engine worker calls them on its thread. They report through callbacks and obey a JobControl,
which is the only thing another thread touches while a job runs.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from app.document import memorized_text
from app.errors import JobError
from app.memorize.estimate import estimate_run, record_throughput
from app.memorize.paths import CHECKPOINT, TENSORS, memory_file, stored_memory_path
from app.memorize.recovery import checkpoint_advice, remove_temp_files
from app.memorize.sections import unheld_rest
from app.memorize.setup import resolve
from app.memorize.specs import read_specs, write_specs
from app.session import Session
from locas_engine import (
    CheckpointError,
    Memorizer,
    MemoryMismatchError,
    Progress,
    attach_memory,
    save_memory,
    stream_signature,
)
from locas_engine.checkpoint import load_checkpoint
from locas_engine.rate import TokenRate
from locas_engine.spec import MemorySpec, Specs

__all__ = ["JobControl", "JobError", "MemorizeEvent", "MemorizeOutcome", "MemorizeRequest", "run_memorize"]


class JobControl:
    """Pause, resume and cancel for a running job, safe to call from any thread."""

    def __init__(self) -> None:
        self._cancel = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._running.set()  # a paused job must wake up to notice the cancel

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float) -> None:
        self._running.wait(timeout)


# -- memorize --------------------------------------------------------------------------------

@dataclass
class MemorizeRequest:
    """Which documents go into which memory, and with which specs."""

    document_ids: Sequence[int]
    memory: str
    # The (MemorySpec, TrainingSpec) pair the form or the command line built, used as it is;
    # None: the memory's own (from its files), else the user's defaults. A memory's MemorySpec
    # is fixed once it exists: a request for another one is refused.
    specs: Specs | None = None
    # Only these sections of a document (new or changed notes: continual memorization). The plan
    # is stored in the library, so a resume of the job memorizes the same sections.
    section_ids: Mapping[int, Sequence[int]] | None = None
    # With nothing measured for these settings yet, time a few chunks before starting so the
    # estimate shown first is a measured one (the command line does; the GUI's dialog has
    # already shown its estimate).
    calibrate: bool = False


@dataclass
class MemorizeEvent:
    memory: str
    phase: str  # loading | tokenizing | estimate | resumed | memorizing | paused | done | cancelled | failed
    tokens_done: int = 0
    tokens_total: int = 0
    ppl: float | None = None
    tokens_per_s: float | None = None
    eta_s: float | None = None
    message: str = ""
    # "resumed" (before the first chunk of a run that continues a checkpoint): the perplexity
    # curve the checkpoint holds, (tokens, ppl) counted like tokens_done; None on other events.
    curve: list[tuple[int, float]] | None = None


@dataclass
class MemorizeOutcome:
    memory: str
    completed: bool
    tokens_done: int
    tokens_total: int
    ppl: float | None
    path: Path


def stored_specs(row: Mapping[str, Any] | None, device_type: str = "cpu") -> Specs | None:
    """The memory's own specs from its files (None for a new memory); JobError if damaged."""
    try:
        return read_specs(row, device_type) if row else None
    except ValueError as exc:
        raise JobError(str(exc)) from exc


def choose_specs(defaults: Specs, request: MemorizeRequest, own: Specs | None) -> Specs:
    """The pair a run uses: the request's, else the memory's own, else the user's ``defaults``.
    The one precedence: the job, ``--estimate`` and the Memorize dialog's cost line all choose
    through here. JobError (a sentence) when the request would change what the memory is."""
    if request.specs is None:
        return own or defaults
    if own is not None and request.specs.memory != own.memory:
        changed = next(f.name for f in fields(MemorySpec)
                       if getattr(own.memory, f.name) != getattr(request.specs.memory, f.name))
        raise JobError(
            f"Memory '{request.memory}' was made with {changed}={getattr(own.memory, changed)}; "
            f"it cannot change to {getattr(request.specs.memory, changed)}. "
            "Use a new memory name instead.")
    return request.specs


def document_token_ids(session: Session, document_id: int) -> list[int]:
    """The tokens a document is memorized as: its sections in order, each under its title."""
    tokenizer = session.backbone().tokenizer
    text = session.library.document_text(document_id)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def section_token_ids(session: Session, document_id: int, section_ids: Sequence[int]) -> dict[int, list[int]]:
    """Each section tokenized on its own, as it is memorized (title above text, a blank line after).

    Tokenizing per section makes token counts add up: memorizing some notes of a folder costs
    exactly the sum of their counts.
    """
    tokenizer = session.backbone().tokenizer
    wanted = set(section_ids)
    doc = session.library.sections(document_id)
    out = {}
    for info in doc:
        if info.id in wanted:
            text = memorized_text(info.title, session.library.section_text(info.id)) + "\n\n"
            out[info.id] = tokenizer(text, add_special_tokens=False)["input_ids"]
    return out


def _same_stream(stored: str | None, signature: str, token_ids: Sequence[int]) -> bool:
    """Whether the row's stream is this one. Libraries written before the app used the
    engine's signature hold a 16-hex digest of the ids' text: accepted (the caller rewrites the
    row at once, so only the first resume after the upgrade reads it)."""
    if stored == signature:
        return True
    legacy = stored is not None and len(stored) == 16
    return legacy and stored == hashlib.sha256(str(list(token_ids)).encode()).hexdigest()[:16]


def run_memorize(
    session: Session,
    request: MemorizeRequest,
    on_event: Callable[[MemorizeEvent], None] | None = None,
    control: JobControl | None = None,
    between_chunks: Callable[[], None] | None = None,
) -> MemorizeOutcome:
    """Memorize the requested documents into the named memory, new or existing (continual).

    Progress is checkpointed next to the memory file, so a cancel, a crash or a killed process
    loses at most one checkpoint interval, and running the same request again (or `resume`)
    continues from the checkpoint. The steps are _MemorizeRun's methods, in the order below.
    """
    run = _MemorizeRun(session, request, on_event, control or JobControl(), between_chunks)
    specs = run.open_memory()
    pending = run.plan_sections()
    try:
        backbone, asked, specs = run.load_model(specs)
        streams, parts = run.read_streams(pending)
        total = sum(len(t) for t in streams.values())
        if not pending:
            run.emit("done", message="Nothing new to memorize: the memory already holds these documents.")
            return MemorizeOutcome(run.name, True, 0, 0, None, run.path)
        if total == 0 and not parts:
            raise JobError("The documents hold no text to memorize.")
        memorizer = Memorizer(backbone, run.attach(backbone, specs), specs.training)
        run.announce_estimate(backbone, asked, specs, streams, total)
        return run.memorize_documents(memorizer, pending, streams, parts, total, [asked, specs])
    except JobError as exc:
        run.fail(str(exc))
        raise
    except CheckpointError as exc:  # the last completed save is untouched: say the two ways on
        message = f"{exc} {checkpoint_advice(run.name, memory_file(run.path, TENSORS).exists())}"
        run.fail(message)
        raise JobError(message) from exc
    except MemoryMismatchError as exc:
        run.fail(str(exc))
        raise JobError(str(exc)) from exc
    except Exception as exc:
        run.fail(f"Memorizing failed: {exc}")
        raise
    finally:
        session.pinned_precision = None


class _MemorizeRun:
    """One memorize job's steps over its session, request and memory row."""

    def __init__(self, session: Session, request: MemorizeRequest,
                 on_event: Callable[[MemorizeEvent], None] | None, control: JobControl,
                 between_chunks: Callable[[], None] | None) -> None:
        self.session, self.library, self.request = session, session.library, request
        self.on_event, self.control, self.serve = on_event, control, between_chunks
        self.name = request.memory.strip()
        if not self.name:
            raise JobError("A memory needs a name.")
        for doc_id in request.document_ids:
            if self.library.get_document(doc_id) is None:
                raise JobError(f"There is no document with id {doc_id}. See 'locas list' for the ids.")
        self.row: dict = self.library.get_memory(self.name) or {}
        self.path = Path()

    def emit(self, phase: str, **kw: Any) -> None:
        if self.on_event is not None:
            self.on_event(MemorizeEvent(memory=self.name, phase=phase, **kw))

    def fail(self, message: str) -> None:
        self.library.update_memory(self.name, status="failed", message=message)
        self.emit("failed", message=message)

    def open_memory(self) -> Specs:
        """Choose the specs, create the memory's row if it is new, and write its spec file."""
        own = stored_specs(self.row, self.session.device_type())
        specs = choose_specs(self.session.settings.specs, self.request, own)
        if not self.row:
            memory_id = self.library.create_memory(self.name)["id"]
            # The id keeps two names that slug alike ("A B", "A-B") from sharing a file.
            stem = self.session.memory_path(f"{memory_id}-{self.name}")
            self.library.update_memory(memory_id, path=stored_memory_path(stem))
            self.row = self.library.get_memory(self.name)
        self.path = Path(self.row["path"])
        write_specs(self.path, specs)  # the memory's files hold its specs from now on
        return specs

    def plan_sections(self) -> list[dict]:
        """Add the documents to the memory, store which sections to memorize; the pending ones."""
        library, name = self.library, self.name
        plans = dict(self.request.section_ids or {})
        for doc_id in self.request.document_ids:
            library.add_memory_source(name, doc_id)  # no-op when the memory already holds it
            if doc_id not in plans and (rest := unheld_rest(library, name, doc_id)):
                plans[doc_id] = rest  # the chapters not chosen before
        for doc_id, section_ids in plans.items():
            library.set_pending_sections(name, doc_id, section_ids)
        remove_temp_files(self.path)  # of a killed earlier run: never read, only wasting space
        return [s for s in library.memory_sources(name) if s["status"] == "pending"]

    def load_model(self, asked: Specs) -> tuple[Any, Specs, Specs]:
        """The model, in the memory's precision; the specs as asked and as resolved for it."""
        session, name = self.session, self.name
        self.emit("loading", message=f"Loading the model ({session.settings.model})")
        backbone = session.backbone()
        if self.row.get("backbone_fingerprint") and self.row["backbone_fingerprint"] != backbone.fingerprint:
            raise JobError(
                f"Memory '{name}' was made for the model '{self.row.get('backbone')}', not the one "
                f"loaded now ('{backbone.name}'). Switch the model in the settings, or use a new "
                "memory name.")
        # "auto" choices become concrete for this machine once, and are stored with the memory;
        # the model's weights follow the memory's precision (bf16 or fp32) while it is memorized.
        specs = resolve(asked, backbone)
        session.pinned_precision = specs.training.precision
        backbone = session.backbone()
        self.library.update_memory(name, backbone=backbone.name, backbone_fingerprint=backbone.fingerprint)
        write_specs(self.path, specs)
        return backbone, asked, specs

    def read_streams(self, pending: list[dict]) -> tuple[dict[int, list[int]], dict[int, dict[int, list[int]]]]:
        """Each pending document's tokens, and per planned section where sections were chosen."""
        self.emit("tokenizing", message="Reading the documents")
        session, library, name = self.session, self.library, self.name
        plans = {s["document_id"]: library.pending_sections(name, s["document_id"]) for s in pending}
        parts = {d: section_token_ids(session, d, ids) for d, ids in plans.items() if ids is not None}
        streams = {d: [t for ids in parts[d].values() for t in ids] if d in parts
                   else document_token_ids(session, d) for d in plans}
        for s in pending:
            library.update_memory_source(name, s["document_id"], tokens=len(streams[s["document_id"]]))
        return streams, parts

    def attach(self, backbone: Any, specs: Specs) -> Any:
        """The memory on the model: attached already, loaded from its file, or made new."""
        memory = self.session.attached(self.name)
        if memory is None and memory_file(self.path, TENSORS).exists():
            memory = self.session.memory(self.name)
        return memory or attach_memory(backbone, specs.memory, name=self.name)

    def announce_estimate(self, backbone: Any, asked: Specs, specs: Specs,
                          streams: dict[int, list[int]], total: int) -> None:
        ids = [t for part in streams.values() for t in part]
        guess = estimate_run(backbone, asked, specs, ids, calibrate_if_new=self.request.calibrate)
        self.emit("estimate", tokens_total=total, eta_s=guess.seconds, tokens_per_s=guess.tokens_per_s,
                  message=f"Memorizing {guess.describe()}")

    def memorize_documents(self, memorizer: Memorizer, pending: list[dict], streams: dict[int, list[int]],
                           parts: dict[int, dict[int, list[int]]], total: int,
                           speed_keys: list[Specs]) -> MemorizeOutcome:
        """Memorize each pending document in turn, checkpointing; stop when asked."""
        library, name, path = self.library, self.name, self.path
        checkpoint = memory_file(path, CHECKPOINT)
        # A checkpoint's count stays until this run trains past it: a kill before the first
        # chunk must not make `locas memories` say the resume starts from zero.
        restart = {} if checkpoint.exists() else {"tokens_done": 0}
        library.update_memory(name, status="running", pid=os.getpid(), tokens_total=total,
                              message="", **restart)
        done_before = 0  # tokens of the documents finished in this run
        # Tokens trained in this run only, over all its documents: the ETA shown, and the
        # steady speed kept for the next run's estimate.
        rate = TokenRate()
        result = None
        for source in pending:
            doc_id = source["document_id"]
            token_ids = streams[doc_id]
            if not token_ids:  # planned notes that were edited or deleted before this run
                _held(self.session, name, doc_id, parts.get(doc_id, {}))
                continue
            result = self.memorize_document(memorizer, doc_id, token_ids, checkpoint, done_before,
                                            total, rate, speed_keys)
            if not result.completed:  # a deliberate stop: "stopped", never "interrupted" (a crash)
                done = done_before + result.tokens_saved  # where a resume starts
                message = f"Stopped at {done:,} of {total:,} tokens; resume to continue."
                library.update_memory(name, status="stopped", tokens_done=done, message=message)
                self.emit("cancelled", tokens_done=done, tokens_total=total, ppl=result.ppl, message=message)
                return MemorizeOutcome(name, False, done, total, result.ppl, path)
            # The file records the specs itself (its config and training): not again here.
            save_memory(memorizer.memory, path, extra_metadata={"library_document_ids": [doc_id]})
            library.update_memory_source(name, doc_id, status="done")
            _held(self.session, name, doc_id, parts.get(doc_id))
            checkpoint.unlink(missing_ok=True)
            done_before += len(token_ids)
        ppl = result.ppl if result else None
        library.update_memory(name, status="done", tokens_done=total, ppl=ppl, message="", stream=None)
        self.emit("done", tokens_done=total, tokens_total=total, ppl=ppl,
                  message=f"Memorized {total:,} tokens into '{name}'.")
        return MemorizeOutcome(name, True, total, total, ppl, path)

    def memorize_document(self, memorizer: Memorizer, doc_id: int, token_ids: list[int], checkpoint: Path,
                          offset: int, total: int, rate: TokenRate, speed_keys: list[Specs]) -> Any:
        """One document's token stream through the memorizer, resuming its checkpoint if it is
        this stream's (any other stream starts over)."""
        library, name = self.library, self.name
        signature = stream_signature(token_ids)
        resume = checkpoint.exists() and _same_stream(self.row.get("stream"), signature, token_ids)
        if checkpoint.exists() and not resume:
            checkpoint.unlink()
        library.update_memory(name, stream=signature)
        self.row = {**self.row, "stream": signature}
        if resume:  # say at once where the run starts, and the curve so far
            start, curve = checkpoint_start(checkpoint, memorizer.settings.chunk, len(token_ids))
            if curve:
                self.emit("resumed", tokens_done=offset + start, tokens_total=total,
                          curve=[(x + offset, y) for x, y in curve])

        def on_progress(p: Progress) -> None:
            # The library keeps what a resume starts from (the checkpoint), not the in-flight
            # count: after a kill, `locas memories` must not promise more.
            library.update_memory(name, tokens_done=offset + p.tokens_saved, ppl=p.ppl)
            self.emit("memorizing", tokens_done=offset + p.tokens_done, tokens_total=total,
                      ppl=p.ppl, tokens_per_s=rate.tokens_per_s,
                      eta_s=rate.eta_s(total - offset - p.tokens_done))

        def between() -> None:  # the rate leaves this wait out of the stored speed
            _between_chunks(library, name, self.control, self.emit, self.serve)

        backbone = memorizer.backbone
        try:
            with self.session.only_memories([name]):  # train this memory alone
                return memorizer.run(
                    token_ids, progress=on_progress, should_stop=lambda: self.control.cancelled,
                    between_chunks=between, checkpoint_path=checkpoint, resume=resume,
                    source=library.get_document(doc_id).title, rate=rate,
                )
        finally:  # what this run measured tells the next one how long it will take
            # (kept under the specs as asked, "auto" in them, and as resolved)
            record_throughput(backbone.name, str(backbone.device), speed_keys,
                              rate.measured_tokens, rate.measured_seconds)


def checkpoint_start(checkpoint: Path, chunk: int, n_tokens: int) -> tuple[int, list[tuple[int, float]]]:
    """Where a resumed stream starts (the tokens its checkpoint holds) and the perplexity curve
    so far, counted from the stream's start; (0, []) when the checkpoint cannot be read (the
    memorizer then says why, with the advice)."""
    try:
        state = load_checkpoint(checkpoint)
        start = min(int(state["next_chunk"]) * chunk, n_tokens)
        curve = [(int(x), float(y)) for x, y in state.get("curve") or []]
    except (CheckpointError, KeyError, TypeError, ValueError):
        return 0, []
    # The memorizer counts its curve over the memory's whole life (earlier documents first).
    shift = curve[-1][0] - start if curve else 0
    return start, [(x - shift, y) for x, y in curve]


def _held(session: Session, name: str, doc_id: int, parts: dict[int, list[int]] | None) -> None:
    """Record which section versions the memory now holds (all sections when no plan was set)."""
    library = session.library
    if parts is None:
        parts = section_token_ids(session, doc_id, [s.id for s in library.sections(doc_id)])
    library.update_memory_source(name, doc_id, status="done")
    library.mark_sections_held(name, doc_id, {sid: len(ids) for sid, ids in parts.items()})


def _between_chunks(library, name: str, control: JobControl, emit, serve: Callable[[], None] | None) -> None:
    """Between two chunks: hold while paused (still serving questions), then serve waiting ones."""
    if control.paused:
        library.update_memory(name, status="paused")
        emit("paused", message="Paused")
        while control.paused and not control.cancelled:
            if serve is not None:
                serve()
            control.wait_while_paused(0.05)
        library.update_memory(name, status="running")
    if serve is not None:
        serve()


def resume_request(session: Session, name: str) -> MemorizeRequest:
    """The request that continues a stopped, interrupted (or failed) memory where it stopped."""
    row = session.library.get_memory(name)
    if row is None:
        raise JobError(f"There is no memory named '{name}'. See 'locas memories' for the list.")
    pending = [s["document_id"] for s in session.library.memory_sources(name) if s["status"] == "pending"]
    if not pending:
        raise JobError(f"Memory '{name}' has nothing left to memorize.")
    return MemorizeRequest(document_ids=pending, memory=name)
