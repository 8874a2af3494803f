"""`locas bench retrieval`: does the search find the passage that holds the answer?

Recall@k of the gold evidence, no answer written: for each question, whether one of the first k
passages holds its evidence. LoCoMo questions name their evidence by dialog id ("D1:3": session
1, turn 3), which the chat importer keeps as a character offset in its section (section meta
``dia_ids``), so the gold passage is the one of that section covering the offset. A book set
names the section; its gold passages are that section's passages holding the reference answer's
words (or the verbatim ``evidence`` quote, when the set gives one).

Orders compared on the same questions (each a ranking of the same wide candidate list from
the full-text index, ``--candidates`` long):
  bm25          today's search: all terms first, any term only when that finds nothing
  bm25-fill     the wide list's own bm25 order (all-term hits, then any-term hits)
  upr           the model's likelihood of the question given each passage, memory off
  upr-memory    the same with the source's memory on
  fused, fused-memory   reciprocal-rank fusion of bm25-fill and upr (upr-memory)
Each order's recall@k is paired with today's (``bm25``) by a bootstrap over questions.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

from app.answer.grounding import content_words
from app.bench.scoring import paired_difference
from locas_engine.bench import bench_parser

EVIDENCE = re.compile(r"D(\d+):(\d+)")
ORDERS = ("bm25", "bm25-fill", "upr", "upr-memory", "fused", "fused-memory")


def locomo_gold(library, document_id: int, evidence: list[str]) -> set[tuple[int, int]]:
    """(section id, passage index) of every passage holding one of the dialog ids."""
    from app.passages import passage_spans

    sessions = {s.meta.get("session"): s for s in library.sections(document_id)}
    gold = set()
    for item in evidence:
        for session, turn in EVIDENCE.findall(item):
            section = sessions.get(int(session))
            offset = (section.meta.get("dia_ids") or {}).get(f"D{session}:{turn}") if section else None
            if offset is None:
                continue
            spans = passage_spans(library.section_text(section.id))
            for idx, (start, end) in enumerate(spans):
                if start <= offset < end:
                    gold.add((section.id, idx))
    return gold


def _squash(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def book_gold(library, document_id: int, section_title: str | None, answer: str | None,
              evidence: str | None = None) -> set[tuple[int, int]]:
    """Passages of the named section that hold the evidence quote, else those holding most (80%)
    of the reference answer's content words; the whole section when neither is found."""
    from app.passages import passage_spans

    sections = [s for s in library.sections(document_id) if section_title is None or s.title == section_title]
    found, fallback = set(), set()
    quote = _squash(evidence) if evidence else ""
    words = content_words(answer or "")
    for section in sections:
        text = library.section_text(section.id)
        spans = passage_spans(text)
        for idx, (start, end) in enumerate(spans):
            passage = text[start:end]
            fallback.add((section.id, idx))
            if quote and quote[:80] in _squash(passage):
                found.add((section.id, idx))
            elif not quote and words and len(words & content_words(passage)) / len(words) >= 0.8:
                found.add((section.id, idx))
    if quote and not found:  # a quote across a passage boundary: its first words decide
        for section in sections:
            text = library.section_text(section.id)
            for idx, (start, end) in enumerate(passage_spans(text)):
                if quote[:30] in _squash(text[start:end]):
                    found.add((section.id, idx))
    return found or (fallback if section_title else set())


def orders_of(record: dict) -> dict[str, list[int]]:
    """Every order of the record's candidates (indices into ``candidates``, best first)."""
    from app.answer.rerank import fuse

    cands = record["candidates"]
    n = len(cands)
    if not n:  # the search found nothing: every order is empty (and misses), none is left out
        return {name: [] for name in ORDERS}
    out = {"bm25": [i for i in range(n) if cands[i]["today"]], "bm25-fill": list(range(n))}
    for name, key in (("upr", "upr"), ("upr-memory", "upr_memory")):
        if n and cands[0].get(key) is not None:
            scores = [c[key] for c in cands]
            out[name] = sorted(range(n), key=lambda i: -scores[i])
            out["fused" + name[3:]] = fuse(list(range(n)), scores)
    return out


def hit(record: dict, order: list[int], k: int) -> float:
    return float(any(record["candidates"][i]["gold"] for i in order[:k]))


def summarize(records: list[dict], ks: list[int]) -> dict:
    """Recall@k per order, and each order's recall@k paired with today's bm25."""
    scored = [r for r in records if r["gold"]]
    orders = [orders_of(r) for r in scored]
    names = [o for o in ORDERS if scored and all(o in x for x in orders)]
    table, pairs = [], []
    for name in names:
        row = {"order": name, "n": len(scored)}
        for k in ks:
            row[f"recall@{k}"] = sum(hit(r, o[name], k) for r, o in zip(scored, orders, strict=True)) / len(scored)
        table.append(row)
    ceiling = sum(any(c["gold"] for c in r["candidates"]) for r in scored) / len(scored) if scored else 0.0
    for name in names:
        if name == "bm25":
            continue
        for k in ks:
            a = [hit(r, o[name], k) for r, o in zip(scored, orders, strict=True)]
            b = [hit(r, o["bm25"], k) for r, o in zip(scored, orders, strict=True)]
            diff, low, high = paired_difference(a, b)
            pairs.append({"order": name, "versus": "bm25", "k": k, "n": len(a), "difference": diff,
                          "ci95": [low, high]})
    return {"recall": table, "candidates_hold_gold": ceiling, "comparisons": pairs}


def evaluate(args: argparse.Namespace) -> dict:
    import os

    from app.answer.pipeline import search_text
    from app.answer.rerank import passage_window, question_likelihoods
    from app.bench.book_questions import load_book_questions
    from app.bench.qa import MEMORIZE_KEYS, load_questions, prepare, question_sets
    from app.library import Library
    from app.session import Session
    from app.settings import Settings
    from locas_engine import only_enabled

    home = Path(args.home)
    os.environ["LOCAS_HOME"] = str(home)
    memorize_settings = {k: getattr(args, k) for k in MEMORIZE_KEYS}
    session = Session(library=Library(), settings=Settings.of(model=args.model, device=args.device,
                                                              **memorize_settings))
    library = session.library
    sources = [(Path(p), f"locomo-{Path(p).stem}", "locomo") for p in args.locomo or []]
    sets = question_sets(args)
    sources += [(book, f"book-{book.stem}", "book") for book in sets]
    prepared = [(path, name, kind, *prepare(session, path, name, args.memory, memorize_settings, home))
                for path, name, kind in sources]
    backbone = session.backbone() if args.model_orders else None
    records = []
    started = time.perf_counter()
    scoring_s = 0.0
    for path, name, kind, doc_id, _info in prepared:
        if kind == "locomo":
            questions = [dict(q, gold=locomo_gold(library, doc_id, [str(e) for e in q.get("evidence", [])]))
                         for q in load_questions(path, args.per_category, args.seed) if q["category"] != 5]
        else:
            questions = [dict(q, gold=book_gold(library, doc_id, q.get("section"), q.get("answer"),
                                                q.get("evidence")))
                         for f in sets[path] for q in load_book_questions(f) if q["category"] != 5]
        for q in questions:
            # a follow-up is searched with its conversation (unless --alone: the ablation)
            history = [] if args.alone else list(q.get("follows", []))
            query = search_text(q["question"], [(h, "") for h in history])  # as the app searches
            today = library.search(query, document_ids=[doc_id], limit=args.k_today)
            wide = library.search(query, document_ids=[doc_id], limit=args.candidates, fill=True)
            today_keys = {(p.section_id, p.index) for p in today}
            cands = [{"section_id": p.section_id, "index": p.index, "bm25": p.score,
                      "today": (p.section_id, p.index) in today_keys,
                      "gold": (p.section_id, p.index) in q["gold"]} for p in wide]
            if backbone is not None and wide:
                t0 = time.perf_counter()
                texts = [passage_window(p.text, query, args.window_chars) if args.window_chars else p.text
                         for p in wide]
                with only_enabled(backbone.memories, []):
                    for c, s in zip(cands, question_likelihoods(backbone, q["question"], texts, history), strict=True):
                        c["upr"] = s
                if args.memory:
                    session.memory(name)
                    with only_enabled(backbone.memories, [name]):
                        for c, s in zip(cands, question_likelihoods(backbone, q["question"], texts, history),
                                        strict=True):
                            c["upr_memory"] = s
                scoring_s += time.perf_counter() - t0
            records.append({"file": path.name, "question": q["question"],
                            "category": q.get("category"), "kind": q.get("kind"),
                            "gold": sorted(q["gold"]), "candidates": cands})
        print(f"  {path.name}: {len(questions)} questions, {time.perf_counter() - started:.0f} s", flush=True)
    ks = sorted(set(args.k))
    return {"settings": {k: getattr(args, k) for k in ("candidates", "k", "per_category", "seed", "memory",
                                                       "window_chars")},
            "model": backbone.name if backbone is not None else None,
            "scoring_s": scoring_s, "records": records, **summarize(records, ks)}


def print_summary(report: dict) -> None:
    ks = sorted({int(k.split("@")[1]) for row in report["recall"] for k in row if k.startswith("recall@")})
    print(f"{'order':<14}" + "".join(f"{'recall@' + str(k):>11}" for k in ks) + f"{'n':>6}")
    for row in report["recall"]:
        print(f"{row['order']:<14}" + "".join(f"{row[f'recall@{k}']:>11.3f}" for k in ks) + f"{row['n']:>6}")
    print(f"(the {report['settings']['candidates']} candidates hold the gold for "
          f"{report['candidates_hold_gold']:.3f})")
    for c in report["comparisons"]:
        low, high = c["ci95"]
        print(f"{c['order']} - bm25, recall@{c['k']}: {c['difference']:+.3f} (95% interval {low:+.3f} to {high:+.3f})")


def pool(paths: list[Path], ks: list[int]) -> dict:
    """Several reports' questions as one (say, both LoCoMo conversations)."""
    records, settings = [], None
    for p in paths:
        report = json.loads(Path(p).read_text(encoding="utf-8"))
        records += report["records"]
        settings = settings or report["settings"]
    return {"settings": settings, "records": records, **summarize(records, ks)}


def build_parser() -> argparse.ArgumentParser:
    from app.bench.qa import MEMORY_FLAGS, TRAINING_FLAGS
    from app.settings import Settings
    from locas_engine.spec import MemorySpec, TrainingSpec, add_flags

    defaults = Settings()
    p = bench_parser("retrieval", __doc__)
    p.add_argument("--locomo", nargs="+", type=Path, help="LoCoMo conversation JSON files")
    p.add_argument("--book", type=Path, help="the book of the --questions sets (default: the one each names)")
    p.add_argument("--questions", type=Path, nargs="+", help="question sets (JSON, see benchmarks/data)")
    p.add_argument("--pool", nargs="+", type=Path, help="pool earlier reports instead of running")
    p.add_argument("--home", help="data folder (reuse the QA bench's, whose memories are found by name)")
    p.add_argument("--candidates", type=int, default=24, help="passages the full-text search hands the reranker")
    p.add_argument("--window-chars", type=int, default=280,
                   help="the model reads this much of each passage (its best window); 0: all of it")
    p.add_argument("--k", type=int, nargs="+", default=[1, 4])
    p.add_argument("--k-today", type=int, default=4, help="passages today's search returns")
    p.add_argument("--alone", action="store_true",
                   help="search a follow-up question alone, without its conversation's earlier questions")
    p.add_argument("--no-model", dest="model_orders", action="store_false", help="bm25 orders only")
    p.add_argument("--no-memory", dest="memory", action="store_false",
                   help="no upr-memory order (and nothing memorized)")
    p.add_argument("--per-category", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model", default="default")
    p.add_argument("--device", default="auto")
    add_flags(p, MemorySpec, defaults.memory, only=MEMORY_FLAGS)
    add_flags(p, TrainingSpec, defaults.training, only=TRAINING_FLAGS)
    p.add_argument("--json", type=Path, help="write the report here")
    return p


def run(args: argparse.Namespace) -> dict:
    if args.pool:
        report = pool(args.pool, sorted(set(args.k)))
    else:
        if not args.locomo and not args.questions:
            raise SystemExit("Give LoCoMo files (--locomo) or question sets (--questions).")
        if not args.home:
            raise SystemExit("Give a --home (the QA bench's, to reuse its memories).")
        report = evaluate(args)
    print_summary(report)
    return report

