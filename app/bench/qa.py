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
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from app.bench.scoring import abstained, f1_score, paired_difference
from app.prompts import build_messages
from locas_engine.bench import write_report

MODES = ("base", "retrieval", "memory", "memory+retrieval", "recent-context")
MEMORIZE_KEYS = ("rank", "lr", "tau_scale", "chunk", "context", "steps", "layers")  # flags = Settings fields
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
# The target: memory+retrieval above both of these, overall.
COMPARISONS = (("memory+retrieval", "retrieval"), ("memory+retrieval", "memory"))


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
    made_with = row["settings"]
    if any(str(made_with.get(k)) != str(v) for k, v in settings.items()):
        raise SystemExit(f"The memory '{name}' in this --home was made with other settings "
                         f"({made_with}); use a fresh --home or the same settings.")
    sources = [s for s in library.memory_sources(name) if s["status"] != "deleted"]
    if len(sources) != 1:
        return None
    return sources[0]["document_id"], row["tokens_done"], row["ppl"]


def answer_once(session, question: str, mode: str, memory: str, document_id: int, args,
                recent: str | None) -> str:
    from app.jobs import AnswerRequest, run_answer
    from locas_engine import stream_generate

    if mode == "recent-context":
        messages = build_messages(question, [recent])
        with session.only_memories([]):
            return "".join(stream_generate(session.backbone(), messages,
                                           max_new_tokens=args.max_new_tokens)).strip()
    request = AnswerRequest(
        question=question, memories=[memory], use_memory=mode in ("memory", "memory+retrieval"),
        use_retrieval=mode in ("retrieval", "memory+retrieval"), passages=args.passages,
        max_new_tokens=args.max_new_tokens, document_ids=[document_id],
    )
    return run_answer(session, request).text


def evaluate(args: argparse.Namespace) -> dict:
    import os

    from app.importers import import_file
    from app.jobs import MemorizeRequest, run_memorize
    from app.library import Library
    from app.session import Session
    from app.settings import Settings

    home = Path(args.home or tempfile.mkdtemp(prefix="locas-bench-qa-"))
    os.environ["LOCAS_HOME"] = str(home)
    memorize_settings = {k: getattr(args, k) for k in MEMORIZE_KEYS}
    settings = Settings(model=args.model, device=args.device, **memorize_settings)
    session = Session(library=Library(), settings=settings)
    scores: dict[tuple[str, int], list[float]] = defaultdict(list)
    conversations = []
    answers: list[dict] = []
    for path in args.locomo:
        started = time.perf_counter()
        name = f"locomo-{Path(path).stem}"
        reused = memorized_before(session.library, name, memorize_settings)
        if reused is not None:
            doc_id, tokens, ppl = reused
            print(f"  {Path(path).name}: reusing memory '{name}' from {home}", flush=True)
        else:
            doc_id = session.library.add_document(import_file(path))
            outcome = run_memorize(session, MemorizeRequest(document_ids=[doc_id], memory=name))
            tokens, ppl = outcome.tokens_done, outcome.ppl
        memorize_s = time.perf_counter() - started
        questions = load_questions(Path(path), args.per_category, args.seed)
        needs_recent = "recent-context" in args.modes
        recent = recent_context(session, doc_id, args.window) if needs_recent else None
        conversations.append({"file": str(path), "tokens": tokens, "memorize_s": memorize_s,
                              "memorize_ppl": ppl, "reused_memory": reused is not None,
                              "questions": len(questions)})
        for mode in args.modes:
            t0 = time.perf_counter()
            for q in questions:
                prediction = answer_once(session, q["question"], mode, name, doc_id, args, recent)
                cat = q["category"]
                reference = str(q.get("answer", q.get("adversarial_answer", "")))
                score = abstained(prediction) if cat == 5 else f1_score(prediction, reference)
                scores[(mode, cat)].append(score)
                answers.append({"file": Path(path).name, "mode": mode, "category": CATEGORIES[cat],
                                "question": q["question"], "reference": reference,
                                "prediction": prediction, "score": score})
            print(f"  {Path(path).name} {mode:<17} {len(questions)} questions in "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)
    results = []
    for mode in args.modes:
        for cat in sorted(CATEGORIES):
            values = scores.get((mode, cat), [])
            if values:
                results.append({"mode": mode, "category": CATEGORIES[cat], "n": len(values),
                                "f1": sum(values) / len(values)})
        overall = [v for cat in (1, 2, 3, 4) for v in scores.get((mode, cat), [])]
        if overall:
            results.append({"mode": mode, "category": "overall", "n": len(overall),
                            "f1": sum(overall) / len(overall)})
    return {"model": session.backbone().name, "conversations": conversations,
            "settings": {k: getattr(args, k) for k in (*MEMORIZE_KEYS, "passages", "max_new_tokens",
                                                       "window", "per_category", "seed")},
            "results": results, "comparisons": compare_modes(scores, args.modes), "answers": answers}


def compare_modes(scores: dict[tuple[str, int], list[float]], modes: list[str]) -> list[dict]:
    """Overall F1 differences of the target's mode pairs, each with its 95% interval.

    Every mode answered the same questions in the same order, so the lists pair up.
    """
    out = []
    for a, b in COMPARISONS:
        if a in modes and b in modes:
            first = [v for cat in (1, 2, 3, 4) for v in scores.get((a, cat), [])]
            second = [v for cat in (1, 2, 3, 4) for v in scores.get((b, cat), [])]
            if first:
                diff, low, high = paired_difference(first, second)
                out.append({"mode": a, "versus": b, "n": len(first), "difference": diff,
                            "ci95": [low, high]})
    return out


def print_table(report: dict) -> None:
    modes = list(dict.fromkeys(r["mode"] for r in report["results"]))
    cats = list(dict.fromkeys(r["category"] for r in report["results"]))
    cell = {(r["mode"], r["category"]): r for r in report["results"]}
    print(f"{'mode':<18}" + "".join(f"{c:>13}" for c in cats))
    for m in modes:
        row = "".join(f"{cell[(m, c)]['f1']:>9.3f} ({cell[(m, c)]['n']:>2})" if (m, c) in cell else f"{'-':>13}"
                      for c in cats)
        print(f"{m:<18}{row}")
    print("(adversarial: share of answers that abstain; others: token F1; n in brackets)")
    for c in report.get("comparisons", []):
        low, high = c["ci95"]
        verdict = "above" if low > 0 else "below" if high < 0 else "no clear difference"
        print(f"{c['mode']} - {c['versus']}: {c['difference']:+.3f} overall "
              f"(95% interval {low:+.3f} to {high:+.3f}: {verdict})")


def build_parser() -> argparse.ArgumentParser:
    from app.settings import Settings

    defaults = Settings()  # the benchmark memorizes with the app's own defaults unless told
    p = argparse.ArgumentParser(prog="locas bench qa", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--locomo", nargs="+", required=True, type=Path, help="LoCoMo conversation JSON files")
    p.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    p.add_argument("--json", type=Path, help="write the report here")
    p.add_argument("--model", default="default")
    p.add_argument("--device", default="auto")
    p.add_argument("--rank", type=int, default=defaults.rank)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--chunk", type=int, default=defaults.chunk)
    p.add_argument("--context", type=int, default=defaults.context)
    p.add_argument("--steps", type=int, default=defaults.steps)
    p.add_argument("--layers", default=defaults.layers)
    p.add_argument("--tau-scale", type=float, default=defaults.tau_scale)
    p.add_argument("--passages", type=int, default=4)
    p.add_argument("--max-new-tokens", type=int, default=24)
    p.add_argument("--window", type=int, default=1024, help="tokens of recent conversation (recent-context)")
    p.add_argument("--per-category", type=int, default=None, help="sample up to N questions per category")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--home", help="data folder for the benchmark's library (default: a temp folder); "
                   "memories a finished run left there are reused instead of memorized again")
    return p


def run(args: argparse.Namespace) -> dict:
    report = evaluate(args)
    print_table(report)
    write_report(report, args.json)
    return report


def main(argv: list[str] | None = None) -> dict:
    return run(build_parser().parse_args(argv))


if __name__ == "__main__":
    main()
