"""``locas sync | note``: keep a notes folder, its library document and its memories in step."""

from __future__ import annotations

import argparse
import sys

from app.commands.memory import _ctrl_c_cancels, _model_flags, _ProgressPrinter, _session
from app.document import ImportFailed
from app.library import NoteChange

# app.memorize.job and app.notes load torch: imported in the commands, not for `locas --help`.

_SHOWN = 20  # notes listed per kind of change; the rest are counted


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sync", help="import a notes folder, or update it and the memories made from it")
    p.add_argument("folder", metavar="FOLDER", help="a folder of Markdown or text notes (an Obsidian or Logseq vault)")
    p.add_argument("--memorize", action="store_true",
                   help="memorize the new and changed notes into every memory made from the folder")
    p.add_argument("--rebuild", metavar="MEMORY",
                   help="memorize the folder from scratch into a fresh memory of this name (forgets deleted notes)")
    _model_flags(p)
    p.set_defaults(func=cmd_sync)

    p = sub.add_parser("note", help="add a quick note to the library and memorize it")
    p.add_argument("text", help="the note")
    p.add_argument("--memory", help="memorize the note into this memory right away (created if new)")
    _model_flags(p)
    p.set_defaults(func=cmd_note)


def _print_changes(label: str, changes: list[NoteChange]) -> None:
    if not changes:
        return
    print(f"{label} ({len(changes)}):")
    for c in changes[:_SHOWN]:
        print(f"  {c.path}  {c.title}")
    if len(changes) > _SHOWN:
        print(f"  ... and {len(changes) - _SHOWN} more")


def cmd_sync(args: argparse.Namespace) -> int:
    from app.memorize.job import JobControl, MemorizeRequest, run_memorize
    from app.notes import notes_status, rebuild_notes_memory, sync_folder, update_notes_memory

    session = _session(args)
    try:
        synced = sync_folder(session, args.folder)
    except ImportFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1
    doc = session.library.get_document(synced.document_id)
    for warning in doc.meta.get("warnings") or []:  # notes skipped (bad links)
        print(warning, file=sys.stderr)
    if synced.created:
        print(f"Imported {doc.title} as document {doc.id}: {len(synced.added)} notes.")
    elif not synced.changes:
        print(f"{doc.title} (document {doc.id}) is unchanged: {synced.unchanged} notes.")
    else:
        print(f"Synced {doc.title} (document {doc.id}): {len(synced.added)} new, {len(synced.changed)} changed, "
              f"{len(synced.deleted)} deleted, {synced.unchanged} unchanged.")
        _print_changes("New", synced.added)
        _print_changes("Changed", synced.changed)
        _print_changes("Deleted", synced.deleted)
    status = 0
    control = JobControl()
    for memory in session.library.memories_holding(doc.id):
        name = memory["name"]
        if args.rebuild == name:
            continue
        state = notes_status(session, name, doc.id)
        if args.memorize and not state.up_to_date:
            with _ctrl_c_cancels(control):
                outcome = update_notes_memory(session, name, doc.id, on_event=_ProgressPrinter(), control=control)
            if not outcome.completed:
                return 130
            state = notes_status(session, name, doc.id)
        if state.up_to_date:
            print(f"Memory '{name}' holds every note in its current version.")
        else:
            print(f"Memory '{name}' lacks {len(state.to_memorize)} new or changed notes; "
                  f"run 'locas sync {args.folder} --memorize' to memorize only those.")
        if state.deleted:
            paths = ", ".join(r["path"] for r in state.deleted[:_SHOWN])
            print(f"Memory '{name}' still holds {len(state.deleted)} deleted notes ({paths}); "
                  f"run 'locas sync {args.folder} --rebuild \"{name}\"' to make it forget them.")
    if args.rebuild:
        holders = [m["name"] for m in session.library.memories_holding(doc.id)]
        if session.library.get_memory(args.rebuild) is not None and args.rebuild not in holders:
            print(f"Memory '{args.rebuild}' was not made from this folder; choose a new name to memorize "
                  "the folder into a new memory.", file=sys.stderr)
            return 1
        if session.library.get_memory(args.rebuild) is None:  # a new memory: memorize the folder into it
            request = MemorizeRequest(document_ids=[doc.id], memory=args.rebuild)
            with _ctrl_c_cancels(control):
                outcome = run_memorize(session, request, on_event=_ProgressPrinter(), control=control)
        else:
            with _ctrl_c_cancels(control):
                outcome = rebuild_notes_memory(session, args.rebuild, on_event=_ProgressPrinter(), control=control)
        status = 0 if outcome.completed else 130
    return status


def cmd_note(args: argparse.Namespace) -> int:
    from app.memorize.job import JobControl
    from app.notes import add_quick_note

    session = _session(args)
    control = JobControl()
    with _ctrl_c_cancels(control):
        note = add_quick_note(session, args.text, memory=args.memory, on_event=_ProgressPrinter(), control=control)
    number = next(s.number for s in session.library.sections(note.document_id) if s.id == note.section_id)
    print(f"Added the note to Quick notes (document {note.document_id}, section {number}).")
    if note.outcome is not None and not note.outcome.completed:
        return 130
    return 0
