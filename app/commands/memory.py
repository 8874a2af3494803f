"""Command-line commands for memories: memorize, resume, ask, and managing the memory files.

The jobs, the session and the memory files are imported inside the commands: they pull in torch
and transformers (seconds), which `locas --help`, `locas list` and the other model-free commands
must not pay for (tests/app/test_startup.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

from app.commands.memory_import import register_import
from app.errors import JobError
from locas_engine.spec import (
    MemorySpec,
    Specs,
    TrainingSpec,
    add_flags,
    all_knobs,
    tau_scales,
)

if TYPE_CHECKING:
    from app.memorize.job import JobControl, MemorizeEvent, MemorizeRequest
    from app.session import Session


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("memorize", help="memorize library documents into a memory")
    p.add_argument("doc_ids", nargs="+", type=int, metavar="DOC_ID")
    p.add_argument("--memory", help="memory name (default: the first document's title)")
    # One flag per setting of the engine's specs; unset ones take the memory's own settings,
    # then the user's (so no default here).
    for spec_type in (MemorySpec, TrainingSpec):
        add_flags(p, spec_type)
    p.add_argument("--sections", metavar="LIST",
                   help="only these sections of the (one) document, numbered as "
                        "'locas list --sections DOC_ID' lists them: 3-10 or 1,4,7-9; a later run "
                        "with other sections adds them to the same memory")
    p.add_argument("--estimate", action="store_true",
                   help="only print the token count and the estimated time, then stop")
    _model_flags(p)
    p.set_defaults(func=cmd_memorize)

    p = sub.add_parser("resume", help="continue a stopped or interrupted memorization")
    p.add_argument("name")
    way = p.add_mutually_exclusive_group()
    way.add_argument("--start-over", action="store_true",
                     help="drop a damaged checkpoint and memorize the unfinished document again")
    way.add_argument("--keep-saved", action="store_true",
                     help="drop a damaged checkpoint and the unfinished documents; keep the last save")
    _model_flags(p)
    p.set_defaults(func=cmd_resume)

    p = sub.add_parser("ask", help="ask a question, answered with a memory attached")
    p.add_argument("question")
    p.add_argument("--memory", action="append", default=[], help="memory name (repeat for several)")
    p.add_argument("--no-memory", action="store_true", help="answer without the memory")
    p.add_argument("--no-retrieval", action="store_true", help="answer without retrieved passages")
    p.add_argument("--passages", type=int, help="passages to retrieve (default 4)")
    p.add_argument("--max-new-tokens", type=int)
    p.add_argument("--no-route", action="store_true",
                   help="with several memories, keep them all on instead of answering with the "
                        "one that best fits the question")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: the answer, whether it abstained, the passages with "
                        "document, section and supporting sentence, and the seconds taken")
    _model_flags(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("memories", help="list memories")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_memories)

    p = sub.add_parser("memory", help="rename, delete, export, import or show a memory",
                       description="Manage one memory: show, rename, delete, export or import it.")
    msub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    register_import(msub)
    q = msub.add_parser("show", help="sources, settings and perplexity curve")
    q.add_argument("name")
    q.add_argument("--json", action="store_true")
    q.set_defaults(func=cmd_memory_show)
    q = msub.add_parser("rename", help="give a memory a new name (its file stays where it is)")
    q.add_argument("name")
    q.add_argument("new_name")
    q.set_defaults(func=cmd_memory_rename)
    q = msub.add_parser("delete", help="delete a memory and its file (asks first unless --yes)")
    q.add_argument("name")
    q.add_argument("--yes", "-y", action="store_true", help="delete without asking")
    q.set_defaults(func=cmd_memory_delete)
    q = msub.add_parser("export", help="copy the memory file, or export a merged model folder")
    q.add_argument("name")
    q.add_argument("dest", nargs="?",
                   help="a folder (the files go inside it, named after the memory) or a file path "
                        "(.safetensors + .json)")
    q.add_argument("--force", action="store_true", help="overwrite existing files")
    q.add_argument("--merged", metavar="DIR", help="write a merged Hugging Face model folder")
    _model_flags(q)
    q.set_defaults(func=cmd_memory_export)


def _model_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", help="'default', a model folder or a .gguf file")
    p.add_argument("--device", help="auto, cpu, cuda or mps")


def _session(args: argparse.Namespace) -> Session:
    from app.session import Session

    session = Session()
    if getattr(args, "model", None):
        session.settings.model = args.model
    if getattr(args, "device", None):
        session.settings.device = args.device
    return session


@contextlib.contextmanager
def _ctrl_c_cancels(control: JobControl) -> Iterator[None]:
    """First Ctrl-C asks the job to stop cleanly (it checkpoints); a second one aborts."""
    def handler(signum, frame):
        if control.cancelled:
            raise KeyboardInterrupt
        print("\nStopping after the current step (Ctrl-C again to abort)...", file=sys.stderr)
        control.cancel()

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread (e.g. called from a test thread)
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _ProgressPrinter:
    """A one-line progress bar with tokens/s, perplexity and ETA (tqdm when on a terminal).

    The rate and ETA are the job's (locas_engine.rate: tokens trained in this run only), never
    tqdm's own, which would count a resumed job's jump to its checkpoint as tokens per second.
    """

    BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"

    def __init__(self) -> None:
        self.bar = None

    def __call__(self, ev: MemorizeEvent) -> None:
        from tqdm import tqdm

        if ev.phase == "memorizing":
            if self.bar is None:
                self.bar = tqdm(total=ev.tokens_total, initial=ev.tokens_done, unit="tok",
                                unit_scale=True, bar_format=self.BAR,
                                desc=f"Memorizing '{ev.memory}'", file=sys.stderr)
            self.bar.n = ev.tokens_done
            self.bar.set_postfix_str(progress_postfix(ev))
        elif ev.phase in ("done", "cancelled", "failed"):
            if self.bar is not None:
                self.bar.close()
                self.bar = None
            if ev.message:
                print(ev.message, file=sys.stderr if ev.phase != "done" else sys.stdout)
            if ev.phase == "cancelled":
                print(f"Run: locas resume \"{ev.memory}\"", file=sys.stderr)
        elif ev.phase == "estimate":
            print(ev.message, file=sys.stderr)
        elif ev.message:
            print(ev.message + "...", file=sys.stderr)


def progress_postfix(ev: MemorizeEvent) -> str:
    """'3.6 tok/s, ETA 02:00, ppl 12.34' from the event's own rate and ETA."""
    from tqdm import tqdm

    parts = []
    if ev.tokens_per_s:
        parts.append(f"{ev.tokens_per_s:,.1f} tok/s")
    if ev.eta_s is not None:
        parts.append(f"ETA {tqdm.format_interval(ev.eta_s)}")
    parts.append(f"ppl {ev.ppl:.2f}" if ev.ppl else "ppl -")
    return ", ".join(parts)


def _memorize(session: Session, request: MemorizeRequest) -> int:
    from app.memorize.job import JobControl, run_memorize

    control = JobControl()
    with _ctrl_c_cancels(control):
        outcome = run_memorize(session, request, on_event=_ProgressPrinter(), control=control)
    return 0 if outcome.completed else 130


def cmd_memorize(args: argparse.Namespace) -> int:
    from app.memorize.job import MemorizeRequest

    session = _session(args)
    name = args.memory
    if not name:
        doc = session.library.get_document(args.doc_ids[0])
        if doc is None:
            raise JobError(f"There is no document with id {args.doc_ids[0]}. See 'locas list' for the ids.")
        name = doc.title
    request = MemorizeRequest(document_ids=args.doc_ids, memory=name, calibrate=True,
                              specs=flag_specs(args, _starting_specs(session, name)))
    if args.sections is not None:
        request.section_ids = _chosen_sections(session, args.doc_ids, name, args.sections)
        if not request.section_ids:
            print(f"Memory '{name}' already holds these sections; nothing to memorize.")
            return 0
    if args.estimate:
        from app.memorize.cost import request_cost

        print(f"Memorizing into '{name}' would take {request_cost(session, request).describe()}")
        return 0
    return _memorize(session, request)


def _starting_specs(session: Session, name: str) -> Specs:
    """What flags change: the memory's own specs if it has them, else the user's defaults."""
    from app.memorize.job import stored_specs

    return stored_specs(session.library.get_memory(name), session.device_type()) or session.settings.specs


def flag_specs(args: argparse.Namespace, base: Specs) -> Specs:
    """``base`` with the spec flags that were given (``dataclasses.replace``); the old
    ``--tau-scale`` becomes ``--output-scale`` at the pair's rank."""
    if args.output_scale is None:
        tau_scales(args, base.memory.rank)
    given = {k: getattr(args, k) for k, _, _ in all_knobs() if getattr(args, k) is not None}
    try:
        return base.with_values(given)
    except ValueError as exc:
        raise JobError(str(exc)) from exc


def _chosen_sections(session: Session, doc_ids: list[int], memory: str, spec: str) -> dict[int, list[int]]:
    """{document: section ids} for --sections, leaving out sections the memory already holds."""
    from app.memorize.sections import chosen_sections, sections_to_memorize

    if len(doc_ids) != 1:
        raise JobError("--sections picks chapters of one document; give exactly one DOC_ID.")
    doc_id = doc_ids[0]
    if session.library.get_document(doc_id) is None:
        raise JobError(f"There is no document with id {doc_id}. See 'locas list' for the ids.")
    chosen = chosen_sections(session.library, doc_id, spec)
    new = sections_to_memorize(session.library, memory, doc_id, [s.id for s in chosen])
    if len(new) < len(chosen):
        print(f"Memory '{memory}' already holds {len(chosen) - len(new)} of these sections; "
              "skipping them.", file=sys.stderr)
    return {doc_id: [s.id for s in new]} if new else {}


def cmd_resume(args: argparse.Namespace) -> int:
    from app.memorize.job import resume_request
    from app.memorize.recovery import keep_saved, start_over

    session = _session(args)
    if args.keep_saved:
        keep_saved(session.library, args.name)
        print(f"Memory '{args.name}' is kept as it was last saved; the unfinished documents were dropped.")
        return 0
    if args.start_over:
        start_over(session.library, args.name)
    row = session.library.get_memory(args.name)
    if row is not None and row.get("status") == "done" and not any(
            s["status"] == "pending" for s in session.library.memory_sources(args.name)):
        print(f"Memory '{args.name}' is complete: nothing left to memorize.")  # not a failure
        return 0
    return _memorize(session, resume_request(session, args.name))


def cmd_ask(args: argparse.Namespace) -> int:
    from app.answer.grounding import answer_dict
    from app.answer.pipeline import AnswerRequest, run_answer

    session = _session(args)
    s = session.settings
    request = AnswerRequest(
        question=args.question, memories=args.memory, use_memory=not args.no_memory,
        use_retrieval=not args.no_retrieval,
        passages=args.passages if args.passages is not None else s.passages,
        max_new_tokens=args.max_new_tokens or s.max_new_tokens, route=not args.no_route,
    )
    if args.json:
        print(json.dumps(answer_dict(run_answer(session, request)), indent=2, ensure_ascii=False))
        return 0
    # One answer: the one shown in the window. The model's draft, which the answer may differ
    # from (a choice it scored, a date read off the text), is only in --json, labelled "draft".
    answer = run_answer(session, request)
    print(f"Quoted from the text: {answer.text}" if answer.chosen == "quote" else answer.text)
    if answer.route is not None:
        chosen = answer.memories
        why = "the memory that best fits the question" if len(chosen) == 1 else "together they fit it best"
        print(f"\n(answered with {', '.join(chosen)}: {why}; --no-route keeps them all on)")
    if answer.citations:
        print("\nPassages:")
        for i, p in enumerate(answer.citations, 1):
            snippet = " ".join(p.text.split())[:160]
            print(f"  [{i}] {p.document_title} — {p.section_title} (doc {p.document_id}, "
                  f"section {p.section_number}, characters {p.start}-{p.end}): {snippet}")
    if answer.cited is not None and answer.support:
        start, end = answer.support
        passage = answer.citations[answer.cited].text
        print(f"\nSupporting sentence in [{answer.cited + 1}]: {highlight(' '.join(passage[start:end].split()))}")
    return 0


def highlight(text: str) -> str:
    """Bold and reversed on a terminal, between » « otherwise (a pipe, a file)."""
    return f"\033[1;7m{text}\033[0m" if sys.stdout.isatty() else f"»{text}«"


def cmd_memories(args: argparse.Namespace) -> int:
    from app.memories import memory_summary

    session = _session(args)
    rows = [memory_summary(session.library, row["name"]) for row in session.library.list_memories()]
    if args.json:
        print(json.dumps(rows, indent=2, default=str))
        return 0
    if not rows:
        print("No memories yet. Import a document, then: locas memorize DOC_ID --memory NAME")
        return 0
    for r in rows:
        held = f"{r['tokens_held']:,} tokens held"
        ppl = f"online perplexity {r['ppl']:.2f}" if r.get("ppl") else ""
        print(f"{r['name']:<30} {r['status']:<12} {held:<22} {ppl}".rstrip())
        for s in r["sources"]:
            print(f"  [{s['document_id']}] {s['title']}: {s['holds']}")
        if r["status"] != "done" and r["tokens_total"]:  # where `locas resume` starts
            print(f"  this run: {r['tokens_done']:,} of {r['tokens_total']:,} tokens saved")
    if any(r.get("ppl") for r in rows):
        print(f"\n{ONLINE_PERPLEXITY}")
    return 0


# What "online perplexity" measures, said where it is shown.
ONLINE_PERPLEXITY = ("Online perplexity: how well the model predicted the text as it memorized it, each "
                     "chunk scored just before it was learned (lower: more predictable).")


def cmd_memory_show(args: argparse.Namespace) -> int:
    from app.memories import memory_summary

    summary = memory_summary(_session(args).library, args.name)
    if args.json:
        print(json.dumps(summary, indent=2, default=str))
        return 0
    print(f"{summary['name']}: {summary['status']} {summary.get('message') or ''}".rstrip())
    print(f"  holds: {summary['tokens_held']:,} tokens")
    for s in summary["sources"]:
        print(f"  source: [{s['document_id']}] {s['title']}: {s['holds']}")
    if summary["status"] != "done" and summary.get("tokens_total"):
        print(f"  this run: {summary['tokens_done']:,} of {summary['tokens_total']:,} tokens saved")
    print(f"  model: {summary.get('backbone') or '-'}")
    print("  settings: " + ", ".join(f"{k}={v}" for k, v in (summary.get("settings") or {}).items()))
    curve = summary.get("curve") or []
    if curve:
        print("  online perplexity (tokens: perplexity): "
              + "  ".join(f"{t:,}: {p:.2f}" for t, p in curve[:: max(1, len(curve) // 8)]))
        print(f"\n{ONLINE_PERPLEXITY}")
    return 0


def cmd_memory_rename(args: argparse.Namespace) -> int:
    from app.memories import rename_memory

    rename_memory(_session(args).library, args.name, args.new_name)
    print(f"Renamed '{args.name}' to '{args.new_name}'.")
    return 0


def cmd_memory_delete(args: argparse.Namespace) -> int:
    from app.memories import delete_memory

    library = _session(args).library
    row = library.get_memory(args.name)
    if row is None:
        raise JobError(f"There is no memory named '{args.name}'. See 'locas memories' for the list.")
    if not args.yes and not _confirm(
            f"Delete memory '{args.name}' and its file ({row.get('tokens_done') or 0:,} tokens "
            "memorized)? This cannot be undone. [y/N] "):
        if not sys.stdin or not sys.stdin.isatty():
            print(f"Not deleting '{args.name}': there is no terminal to ask on; add --yes to delete "
                  "it without asking.", file=sys.stderr)
            return 1
        print("Nothing deleted.")
        return 1
    delete_memory(library, args.name)
    print(f"Deleted memory '{args.name}' and its file.")
    return 0


def _confirm(question: str) -> bool:
    """Ask on the terminal; False without one (a script must say --yes) or on anything but yes."""
    if not sys.stdin or not sys.stdin.isatty():
        return False
    print(question, end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    return answer in ("y", "yes")


def cmd_memory_export(args: argparse.Namespace) -> int:
    if not args.dest and not args.merged:
        raise JobError("Say where to export: a file path, or --merged DIR for a merged model folder.")
    from app.memories import export_memory_file, export_merged_model

    session = _session(args)
    written = export_memory_file(session.library, args.name, args.dest, force=args.force) if args.dest else []
    if args.merged:
        written.append(export_merged_model(session, args.name, args.merged))
    for path in written:
        print(f"Wrote {path}")
    return 0
