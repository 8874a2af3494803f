"""What the when-question date rule (app/answer/dates.py) adds, measured on recorded answers.

The rule only reads the draft the model wrote and its cited passage, so grounding each recorded
draft again with the rule switched off gives exactly the answer the app would have shown
without it. Each distinct question counts once, however many reports (seeds) drew it.

    python benchmarks/issue18_date_rule.py docs/bench-results/qa-s10-conv26-seed2.json ...

prints, for the default mode (memory+retrieval), F1 on categories 1-4 with and without the rule,
the paired difference with its 95% interval, and the abstention figures.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import app.answer.grounding as grounding
from app.bench.combine import paired_difference
from app.bench.scoring import f1_score

MODE = "memory+retrieval"


def distinct_answers(paths: list[Path]) -> list[dict]:
    seen: dict[tuple[str, str], dict] = {}
    for path in paths:
        for answer in json.loads(path.read_text())["answers"]:
            if answer["mode"] == MODE:
                seen.setdefault((answer["file"], answer["question"]), answer)
    return list(seen.values())


def without_rule(answer: dict) -> float:
    """The F1 the answer would have scored, grounded with the date rule off."""
    if answer["abstained"] or not answer.get("cited") or not answer["draft"]:
        return answer["score"]  # the rule never touches these
    shown = grounding.ground(answer["question"], grounding.strip_citations(answer["draft"]),
                             [answer["cited"]["text"]], [0.0], lambda passages, text: 0.0)
    return f1_score(grounding.strip_citations(shown.text), answer["reference"])


def main(argv: list[str]) -> None:
    answers = distinct_answers([Path(p) for p in argv])
    answerable = [a for a in answers if a["category"] != "adversarial"]
    unanswerable = [a for a in answers if a["category"] == "adversarial"]
    with_rule = [a["score"] for a in answerable]
    real = grounding.asks_when
    grounding.asks_when = lambda question: False  # the rule off: no question asks when
    try:
        before = [without_rule(a) for a in answerable]
    finally:
        grounding.asks_when = real
    diff, low, high = paired_difference(with_rule, before)
    print(f"{len(answerable)} distinct answerable questions: F1 {sum(with_rule) / len(with_rule):.3f} "
          f"with the date rule, {sum(before) / len(before):.3f} without; "
          f"{diff:+.3f} (95% interval {low:+.3f} to {high:+.3f})")
    print(f"category 5: {sum(a['abstained'] for a in unanswerable)} of {len(unanswerable)} abstained; "
          f"answerable: {sum(a['abstained'] for a in answerable)} of {len(answerable)} abstained")


if __name__ == "__main__":
    main(sys.argv[1:])
