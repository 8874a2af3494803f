"""Does the memory's surprise on a question tell LoCoMo's unanswerable questions apart? (issue 18)

The surprise needs no answer: it is the question's mean NLL with the conversation's memory on
minus off (``locas_engine.generate.memory_surprise``). So every question of a memorized
conversation can be scored, not only the few a CPU run could answer. A one-feature threshold is
fitted on half of the questions (alternate positions) with the calibration's own search
(``app.bench.calibrate.fit``: most category-5 abstention at <= 15% false abstention) and
reported on the other half, both ways round.

    python benchmarks/issue18_surprise.py --home /work/qa-home \
        --locomo ../shared/data/chats/locomo-conv26.json --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.bench.calibrate import add_surprise, fit, rates  # noqa: E402
from app.bench.qa import CATEGORIES, load_questions  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--home", type=Path, required=True, help="the bench's --home holding the memory")
    p.add_argument("--locomo", type=Path, required=True)
    p.add_argument("--max-false", type=float, default=0.15)
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    rows = [{"file": args.locomo.name, "question": q["question"], "category": CATEGORIES[q["category"]],
             "prediction": "", "reference": str(q.get("answer", "")), "evidence": {}}
            for q in load_questions(args.locomo, None, 0)]
    add_surprise(rows, [args.home])
    out = {"n": len(rows), "held_out": []}
    halves = [rows[0::2], rows[1::2]]
    for i, (train, test) in enumerate((halves, halves[::-1])):
        rule = fit(train, args.max_false)
        got = {k: v for k, v in rates(test, rule).items() if k != "f1_answerable"}
        out["held_out"].append({"fitted_on": f"half {i + 1}", "rule": rule, **got})
        print(f"fitted on half {i + 1}: surprise {'<' if rule['sign'] < 0 else '>'} "
              f"{rule['sign'] * rule['threshold']:+.3f}  ->  other half: category 5 abstention "
              f"{100 * got['abstain_unanswerable']:.0f}% ({got['n_unanswerable']}), false abstention "
              f"{100 * got['false_abstain']:.0f}% ({got['n_answerable']})")
    by_cat: dict[str, list[float]] = {}
    for r in rows:
        by_cat.setdefault(r["category"], []).append(r["evidence"]["memory_surprise"])
    out["mean_by_category"] = {c: sum(v) / len(v) for c, v in by_cat.items()}
    print("mean surprise by category:", {c: round(m, 3) for c, m in out["mean_by_category"].items()})
    out["rows"] = [{"question": r["question"], "category": r["category"],
                    "memory_surprise": r["evidence"]["memory_surprise"]} for r in rows]
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
