"""`locas bench qa`: question answering over LoCoMo chat logs, with and without memory.

For each conversation: import it into a fresh library, memorize it, then answer its questions
in each mode and score token-level F1 per category (1 multi-hop, 2 temporal, 3 open-domain,
4 single-hop); category 5 (adversarial, unanswerable) is reported apart as the share of answers
that abstain. Modes:
  base              no context, no memory
  retrieval         passages from the library's full-text index
  memory            the memorized conversation, no passages
  memory+retrieval  both
  recent-context    the last tokens of the conversation that fit the window, no memory
  memory+recent-context  the same window with the memory on: the paper's LoCoMo setting
                    (the recent conversation in context, the older part in memory)

With ``--book FILE --questions FILE`` it answers a question set written for a book instead
(benchmarks/data/*.json: questions with short reference answers and the section holding each,
plus questions the book does not answer, scored like category 5). Every answer also records
whether it abstained, the passage it cites and the evidence behind the abstention rule, and,
for book questions, whether the answer contradicts its cited passage (the passage holds the
reference answer, the answer does not).
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from app.answer.grounding import strip_citations
from app.answer.prompts import build_messages
from app.bench.answer_checks import answer_checks, contradicts
from app.bench.book_questions import load_book_questions
from app.bench.qa_tables import CATEGORIES, compare_modes, kind_table, print_table, tabulate
from app.bench.scoring import abstained, f1_score, holds_reference
from app.memorize.specs import read_specs
from locas_engine.answer_text import trim_unfinished
from locas_engine.bench import bench_parser
from locas_engine.spec import MemorySpec, TrainingSpec, add_flags, flat, tau_scales

MODES = ("base", "retrieval", "memory", "memory+retrieval", "recent-context", "memory+recent-context")
MEMORY_MODES = {"memory", "memory+retrieval", "memory+recent-context"}
# The memorization flags: fields of the engine's specs, with the app's defaults.
MEMORY_FLAGS = ("rank", "output_scale", "layers")
TRAINING_FLAGS = ("lr", "chunk", "context", "steps")
MEMORIZE_KEYS = (*MEMORY_FLAGS, *TRAINING_FLAGS)


def load_questions(path: Path, per_category: int | None, seed: int) -> list[dict]:
    """The file's QA list; optionally a fixed-seed sample of up to N questions per category."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    qa = data["qa"] if isinstance(data, dict) else data[0]["qa"]
    if per_category is None:
        return qa
    rng = random.Random(seed)
    by_cat: dict[int, list[dict]] = defaultdict(list)
    for q in qa:
        by_cat[q["category"]].append(q)
    picked = []
    for cat in sorted(by_cat):
        items = by_cat[cat]
        picked.extend(rng.sample(items, min(per_category, len(items))))
    return picked


def recent_context(session, document_id: int, budget_tokens: int) -> str:
    """The last `budget_tokens` tokens of the document, as text."""
    tokenizer = session.backbone().tokenizer
    ids = tokenizer(session.library.document_text(document_id), add_special_tokens=False)["input_ids"]
    return tokenizer.decode(ids[-budget_tokens:])


def memorized_before(library, name: str, settings: dict) -> tuple[int, int, float | None] | None:
    """(document id, tokens, final ppl) of a finished memory of that name in a reused ``--home``.

    Memorizing a conversation takes most of the benchmark's time on a CPU, and memorization is
    deterministic for fixed settings, so a rerun that only changes how questions are answered
    can start from the memories an earlier run left in the same folder.
    """
    row = library.get_memory(name)
    if row is None or row["status"] != "done":
        return None
    own = read_specs(row)
    made_with = flat(*own) if own else {}
    # "auto" (the default layers, precision) was made concrete for this machine when the memory
    # was made, and is stored that way: it matches whatever was stored
    if any(str(made_with.get(k)) != str(v) for k, v in settings.items() if v != "auto"):
        raise SystemExit(f"The memory '{name}' in this --home was made with other settings "
                         f"({made_with}); use a fresh --home or the same settings.")
    sources = [s for s in library.memory_sources(name) if s["status"] != "deleted"]
    if len(sources) != 1:
        return None
    return sources[0]["document_id"], row["tokens_done"], row["ppl"]


def answer_once(session, question: str, mode: str, memory: str, document_id: int, args,
                recent: str | None, history: list[tuple[str, str]] | None = None,
                ) -> tuple[list[str], object | None, int]:
    """The answer as streamed, the app's Answer (None for the recent-context modes, which bypass
    retrieval), and how many tokens the model wrote. The streamed pieces are not tokens: the
    stream holds words back until no rule can cut them, so a piece is often several tokens."""
    from app.answer.pipeline import AnswerRequest, run_answer
    from app.answer.source_lines import is_source_line
    from locas_engine import stream_generate

    history = list(history or [])
    if mode.endswith("recent-context"):
        messages = build_messages(question, [recent], history=history)
        written: list[float] = []  # one log-probability per token written
        with session.only_memories([memory] if mode in MEMORY_MODES else []):
            pieces = list(stream_generate(session.backbone(), messages, max_new_tokens=args.max_new_tokens,
                                          logprobs=written, source_line=is_source_line))
        return pieces, None, len(written)
    request = AnswerRequest(
        question=question, memories=[memory], use_memory=mode in MEMORY_MODES,
        use_retrieval=mode in ("retrieval", "memory+retrieval"), passages=args.passages,
        max_new_tokens=args.max_new_tokens, document_ids=[document_id], plain_ending=args.plain_ending,
        history=history,
        full_evidence=True,  # every feature the calibration (app/bench/calibrate.py) may fit
    )
    pieces: list[str] = []
    answer = run_answer(session, request, on_token=pieces.append)
    return pieces, answer, answer.tokens


def shown_answer(pieces: list[str], answer, at_budget: bool = False) -> str:
    """The answer as a reader would see it: the app's grounded answer, or for the bench-only
    recent-context modes the stream without a last sentence its token budget cut off (the
    app's rule, ``trim_unfinished``; ``at_budget``: the model wrote its whole budget), so that
    every mode is scored the same way."""
    if answer is not None:
        return answer.text
    return trim_unfinished("".join(pieces).strip(), at_budget)


def answer_record(answer) -> dict:
    """What the report keeps of an Answer beyond its text: abstention, citation, evidence."""
    if answer is None:
        return {}
    cited = answer.citations[answer.cited] if answer.cited is not None else None
    return {"draft": answer.draft, "abstained": answer.abstained, "chosen": answer.chosen,
            "evidence": answer.evidence,
            "cited": None if cited is None else {"section": cited.section_title, "text": cited.text}}


def score(prediction: str, category: int, reference: str) -> float:
    prediction = strip_citations(prediction)  # "[2]" is a pointer for the reader, not an answer word
    return abstained(prediction) if category == 5 else f1_score(prediction, reference)


def prepare(session, path: Path, name: str, memorize: bool, settings: dict, home: Path) -> tuple[int, dict]:
    """Import ``path`` (or find it in a reused ``--home``) and memorize it when a mode needs it."""
    from app.importers import import_file
    from app.memorize.job import MemorizeRequest, run_memorize

    started = time.perf_counter()
    reused = memorized_before(session.library, name, settings)
    tokens = ppl = None
    if reused is not None:
        doc_id, tokens, ppl = reused
        print(f"  {path.name}: reusing memory '{name}' from {home}", flush=True)
    else:
        # a --home reused without memories (no mode needed one) already holds the document
        known = [d.id for d in session.library.list_documents() if d.source_path == str(path)]
        doc_id = known[0] if known else session.library.add_document(import_file(path))
        if memorize:
            outcome = run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory=name))
            tokens, ppl = outcome.tokens_done, outcome.ppl
    return doc_id, {"file": str(path), "tokens": tokens, "memorize_s": time.perf_counter() - started,
                    "memorize_ppl": ppl, "reused_memory": reused is not None, "memorized": memorize}


def evaluate(args: argparse.Namespace) -> dict:
    import os

    from app.library import Library
    from app.session import Session
    from app.settings import Settings

    home = Path(args.home or tempfile.mkdtemp(prefix="locas-bench-qa-"))
    os.environ["LOCAS_HOME"] = str(home)
    memorize_settings = {k: getattr(args, k) for k in MEMORIZE_KEYS}
    settings = Settings.of(model=args.model, device=args.device, **memorize_settings)
    session = Session(library=Library(), settings=settings)
    scores: dict[tuple[str, int], list[float]] = defaultdict(list)
    # The same answers cut after k tokens: F1 rewards short answers and a cap can cut a date in
    # half ("9 June 202"), so how the modes rank can depend on the cap; this shows whether it does.
    cuts = sorted(k for k in set(args.score_at or []) if k < args.max_new_tokens)
    scores_at: dict[int, dict[tuple[str, int], list[float]]] = {k: defaultdict(list) for k in cuts}
    conversations = []
    answers: list[dict] = []
    # Every source is in the library before any question is asked: bm25 weighs terms by the
    # whole index, so answering the first conversation before the second is imported would
    # retrieve differently from a rerun that reuses this --home. Nothing is memorized when no
    # mode uses a memory.
    memorize = bool(MEMORY_MODES & set(args.modes))
    sources = [(Path(p), f"locomo-{Path(p).stem}") for p in args.locomo or []]
    sets = question_sets(args)  # book -> its question sets
    sources += [(book, f"book-{book.stem}") for book in sets]
    prepared = []
    for path, name in sources:
        doc_id, info = prepare(session, path, name, memorize, memorize_settings, home)
        prepared.append((path, name, doc_id))
        conversations.append(info)
    for (path, name, doc_id), conversation in zip(prepared, conversations, strict=True):
        if path in sets:
            questions = [q for questions_file in sets[path] for q in load_book_questions(questions_file)]
        else:
            questions = load_questions(path, args.per_category, args.seed)
        if args.forms:  # only the questions of these forms (app/answer/choose.py): a targeted run
            from app.answer.choose import question_form

            questions = [q for q in questions if question_form(q["question"]).kind in args.forms]
        conversation["questions"] = len(questions)
        needs_recent = any(m.endswith("recent-context") for m in args.modes)
        recent = recent_context(session, doc_id, args.window) if needs_recent else None
        for mode in args.modes:
            t0 = time.perf_counter()
            for q in questions:
                # a follow-up is asked inside its conversation: its earlier questions first, each
                # answered as the app answers it, then the follow-up with those turns as history
                history: list[tuple[str, str]] = []
                for earlier in q.get("follows", []):
                    turn, turn_answer, turn_tokens = answer_once(session, earlier, mode, name, doc_id, args,
                                                                 recent, history)
                    history.append((earlier, shown_answer(turn, turn_answer,
                                                          at_budget=turn_tokens >= args.max_new_tokens)))
                pieces, answer, tokens = answer_once(session, q["question"], mode, name, doc_id, args, recent,
                                                     history)
                prediction = shown_answer(pieces, answer, at_budget=tokens >= args.max_new_tokens)
                cat = q["category"]
                reference = str(q.get("answer", q.get("adversarial_answer", "")))
                scores[(mode, cat)].append(score(prediction, cat, reference))
                for k in cuts:
                    scores_at[k][(mode, cat)].append(score("".join(pieces[:k]).strip(), cat, reference))
                record = {"file": path.name, "mode": mode, "category": CATEGORIES[cat],
                          "question": q["question"], "reference": reference,
                          "prediction": prediction, "tokens": tokens,
                          "score": scores[(mode, cat)][-1], **answer_record(answer)}
                if q.get("section"):
                    record["section"] = q["section"]
                if q.get("kind"):
                    record["kind"], record["also"] = q["kind"], q.get("also", [])
                if history:
                    record["history"] = history
                if cat != 5:  # the shown answer, and the model's draft, hold the reference
                    also = q.get("also", [])
                    record["holds"] = holds_reference(strip_citations(prediction), reference, also, q.get("kind"),
                                                      q["question"])
                    if record.get("draft"):
                        record["draft_holds"] = holds_reference(record["draft"], reference, also, q.get("kind"),
                                                                q["question"])
                if cat != 5 and record.get("cited"):
                    record["contradicts"] = contradicts(strip_citations(prediction), reference,
                                                        record["cited"]["text"])
                answers.append(record)
            print(f"  {path.name} {mode:<17} {len(questions)} questions in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    comparisons = compare_modes(scores, args.modes)
    for k in cuts:
        comparisons += compare_modes(scores_at[k], args.modes, at_tokens=k)
    return {"model": session.backbone().name, "conversations": conversations,
            "settings": {k: getattr(args, k) for k in (*MEMORIZE_KEYS, "passages", "max_new_tokens",
                                                       "plain_ending", "window", "per_category", "seed",
                                                       "choose_by", "rerank", "show_quote", "forms",
                                                       "search_fill")},
            "results": tabulate(scores, args.modes),
            "results_at_tokens": {str(k): tabulate(scores_at[k], args.modes) for k in cuts},
            "answer_checks": answer_checks(answers, args.modes), "kinds": kind_table(answers),
            "comparisons": comparisons, "answers": answers}


def question_sets(args: argparse.Namespace) -> dict[Path, list[Path]]:
    """Each book with its question sets: ``--book`` for all of ``--questions``, else the book
    each set names (benchmarks/data/*.json: ``book``)."""
    from app.bench.book_questions import book_path

    out: dict[Path, list[Path]] = {}
    for questions in args.questions or []:
        out.setdefault(Path(args.book) if args.book else book_path(questions), []).append(Path(questions))
    return out


def build_parser() -> argparse.ArgumentParser:
    from app.settings import Settings

    defaults = Settings()  # the benchmark memorizes with the app's own defaults unless told
    p = bench_parser("qa", __doc__)
    p.add_argument("--locomo", nargs="+", type=Path, help="LoCoMo conversation JSON files")
    p.add_argument("--book", type=Path, help="the book the --questions sets are on (default: the "
                   "book each set names)")
    p.add_argument("--questions", type=Path, nargs="+",
                   help="question sets (JSON, see benchmarks/data), e.g. benchmarks/data/kinds-*.json")
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--json", type=Path, help="write the report here")
    p.add_argument("--model", default="default")
    p.add_argument("--device", default="auto")
    add_flags(p, MemorySpec, defaults.memory, only=MEMORY_FLAGS)
    add_flags(p, TrainingSpec, defaults.training, only=TRAINING_FLAGS)
    p.add_argument("--passages", type=int, default=4)
    p.add_argument("--max-new-tokens", type=int, default=24)
    p.add_argument("--score-at", type=int, nargs="*", default=[],
                   help="also score each answer cut after these many tokens (below --max-new-tokens)")
    p.add_argument("--memory-ends-answers", dest="plain_ending", action="store_false",
                   help="let the memorized model decide where its answer ends (the ablation of the "
                   "default, in which the memory-off model decides)")
    p.add_argument("--forms", nargs="+", choices=("open", "choice", "polar"),
                   help="ask only the questions of these forms (a choice between named options, yes/no)")
    p.add_argument("--show-quote", choices=("never", "always", "unsupported"),
                   help="when an open question is answered with the sentence the model quotes "
                   "(app/answer/choose.py; default: the app's)")
    p.add_argument("--rerank", choices=("upr", "fused", "none"),
                   help="how the passages are ordered (app/answer/rerank.py; default: the app's)")
    p.add_argument("--search-fill", choices=("on", "off"),
                   help="whether passages holding some of the question's words fill the list "
                   "(app/answer/pipeline.py SEARCH_FILL; default: the app's)")
    p.add_argument("--choose-by", choices=("gain", "with", "none"),
                   help="how a choice or yes/no question is answered (app/answer/choose.py; default: "
                   "the app's)")
    p.add_argument("--window", type=int, default=1024, help="tokens of recent conversation (recent-context)")
    p.add_argument("--per-category", type=int, default=None, help="sample up to N questions per category")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--home", help="data folder for the benchmark's library (default: a temp folder); "
                   "memories a finished run left there are reused instead of memorized again")
    return p


def run(args: argparse.Namespace) -> dict:
    if args.book and not args.questions:
        raise SystemExit("--book needs the question set written for it: give --questions FILE too "
                         "(see benchmarks/data).")
    if not args.locomo and not args.questions:
        raise SystemExit("Give LoCoMo files (--locomo) or question sets (--questions, with --book when "
                         "a set does not name its book).")
    tau_scales(args)  # an old --tau-scale becomes --output-scale
    import app.answer.choose as choose  # the app's rules, varied for this run only

    if args.choose_by:
        choose.CHOOSE_BY = None if args.choose_by == "none" else args.choose_by
    if args.show_quote:
        choose.SHOW_QUOTE = args.show_quote
    if args.rerank:
        import app.answer.rerank as rerank

        rerank.RERANK = None if args.rerank == "none" else args.rerank
    if args.search_fill:
        import app.answer.pipeline as pipeline

        pipeline.SEARCH_FILL = args.search_fill == "on"
    report = evaluate(args)
    print_table(report)
    return report
