"""``locas import | list | search | remove``: the library from the command line."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from ..document import ImportFailed, one_line
from ..library import Library, LibraryError
from ..memorize.sections import held_section_ids


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("import", help="import books or chat logs into the library")
    p.add_argument("paths", nargs="+", metavar="PATH", help="EPUB, text, Markdown, HTML, PDF or chat export")
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_import)

    p = subparsers.add_parser("list", help="list the documents in the library")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--sections", type=int, metavar="DOC_ID",
                   help="list the numbered sections (chapters) of one document instead, "
                        "for: locas memorize DOC_ID --sections 3-10")
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_list)

    p = subparsers.add_parser("search", help="search the library's text")
    p.add_argument("query", metavar="QUERY", help='words to find; "quoted words" match as a phrase')
    p.add_argument("--doc", type=int, action="append", metavar="ID", help="only this document (repeatable)")
    p.add_argument("--limit", type=int, default=10, help="at most this many passages (default 10)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_search)

    p = subparsers.add_parser("remove", help="remove a document from the library")
    p.add_argument("doc_id", type=int, metavar="DOC_ID")
    p.add_argument("--db", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_remove)


def _library(args: argparse.Namespace) -> Library:
    return Library(args.db) if getattr(args, "db", None) else Library()


def cmd_import(args: argparse.Namespace) -> int:
    status = 0
    with _library(args) as lib:
        for path in args.paths:
            try:
                info = lib.import_file(path)
            except (ImportFailed, LibraryError) as exc:
                print(str(exc), file=sys.stderr)
                status = 1
                continue
            note = "  (already in the library)" if info.duplicate else ""
            print(f"{info.id}\t{info.title}\t{info.kind}\t{info.sections} sections\t{info.characters} characters{note}")
            for warning in info.meta.get("warnings") or []:  # notes skipped in a folder (bad links)
                print(f"  {warning}", file=sys.stderr)
    return status


def cmd_list(args: argparse.Namespace) -> int:
    if args.sections is not None:
        return _list_sections(args)
    with _library(args) as lib:
        docs = lib.list_documents()
    if args.json:
        rows = [{k: v for k, v in asdict(d).items() if k not in ("meta", "duplicate")} for d in docs]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not docs:
        print("The library is empty; add files with: locas import PATH")
        return 0
    print("ID\tKIND\tSECTIONS\tCHARACTERS\tTITLE")
    for d in docs:
        authors = f" — {', '.join(d.authors)}" if d.authors and d.kind != "chat" else ""
        print(f"{d.id}\t{d.kind}\t{d.sections}\t{d.characters}\t{one_line(d.title)}{authors}")
    return 0


def _list_sections(args: argparse.Namespace) -> int:
    with _library(args) as lib:
        doc = lib.get_document(args.sections)
        if doc is None:
            print(f"There is no document {args.sections} in the library; see: locas list", file=sys.stderr)
            return 1
        sections = lib.sections(doc.id)
        held = {m["name"]: held_section_ids(lib, m["name"], doc.id) for m in lib.memories_holding(doc.id)}
    rows = [{"number": s.number, "title": s.title, "characters": s.characters,
             "memories": [name for name, ids in held.items() if s.id in ids]}
            for s in sections]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    count = len(rows)
    example = f" (memorize some with: locas memorize {doc.id} --sections " \
              f"{'2' if count == 2 else f'2-{min(count, 10)}'})" if count > 1 else ""
    print(f"{doc.title}: {count} section{'' if count == 1 else 's'}{example}")
    print("NO.\tCHARACTERS\tTITLE")
    for r in rows:
        memories = f"  [in {', '.join(r['memories'])}]" if r["memories"] else ""
        print(f"{r['number']}\t{r['characters']}\t{r['title'] or '(untitled)'}{memories}")
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    with _library(args) as lib:
        for doc_id in args.doc or []:
            if lib.get_document(doc_id) is None:
                print(f"There is no document {doc_id} in the library.", file=sys.stderr)
                return 1
        hits = lib.search(args.query, document_ids=args.doc, limit=args.limit)
    if args.json:
        print(json.dumps([asdict(h) for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("No passages found.")
        return 0
    for h in hits:
        snippet = " ".join(h.snippet.split())
        print(f"[doc {h.document_id}] {one_line(h.document_title)} › {one_line(h.section_title)} "
              f"(char {h.start})\n    {snippet}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    with _library(args) as lib:
        try:
            info = lib.delete_document(args.doc_id)
        except LibraryError as exc:
            print(str(exc), file=sys.stderr)
            return 1
    print(f"Removed {info.id}: {info.title}")
    return 0
