"""Can the default model judge whether its cited passage supports an answer? (issue 18)

Over the answers of `locas bench qa` reports that were kept as written (their passage holds at
least half the words they add to the question), asks the model "Does the passage support this
answer? Answer Yes or No." and reports how well log P(Yes) - log P(No) puts the answers that
contradict their passage below the others (AUC; 0.5 is chance). Measured in docs/benchmarks.md.

    LOCAS_HOME=DIR python benchmarks/issue18_judge.py REPORT.json [REPORT.json ...]
"""

from __future__ import annotations

import json
import sys
import time

import torch

from app.answer.grounding import PREFER_PASSAGE_BELOW, strip_citations
from locas_engine import Backbone, load_backbone
from locas_engine.generate import prompt_ids


def first_ids(backbone: Backbone, words: tuple[str, ...]) -> list[int]:
    return [backbone.tokenizer.encode(w, add_special_tokens=False)[0] for w in words]


def judge(backbone: Backbone, passage: str, question: str, answer: str) -> float:
    """log P(Yes) - log P(No) for the model's verdict on the answer against the passage."""
    messages = [{"role": "system", "content": "You check facts. Answer Yes or No."},
                {"role": "user", "content": f"Passage: {passage.strip()}\n\nQuestion: {question}\n"
                                            f"Answer: {answer}\n\nDoes the passage support this answer? "
                                            "Answer Yes or No."}]
    with torch.no_grad():
        logits = backbone.model(input_ids=prompt_ids(backbone, messages)).logits[0, -1].float()
    logprobs = torch.log_softmax(logits, -1)
    yes, no = first_ids(backbone, ("Yes", " Yes", "yes")), first_ids(backbone, ("No", " No", "no"))
    return (torch.logsumexp(logprobs[yes], 0) - torch.logsumexp(logprobs[no], 0)).item()


def kept_answers(report: dict) -> list[dict]:
    return [a for a in report["answers"]
            if a.get("evidence") and a["reference"] and a.get("cited")
            and a["category"] not in (5, "adversarial")
            and a["evidence"]["answer_support"] >= PREFER_PASSAGE_BELOW]


def main(paths: list[str]) -> None:
    backbone = load_backbone("default", device="cpu")
    started = time.perf_counter()
    scored = [(bool(a.get("contradicts")),
               judge(backbone, a["cited"]["text"], a["question"], strip_citations(a["prediction"])))
              for path in paths for a in kept_answers(json.load(open(path, encoding="utf-8")))]
    contradicting = [s for c, s in scored if c]
    others = [s for c, s in scored if not c]
    auc = sum((x < y) + 0.5 * (x == y) for x in contradicting for y in others) / (len(contradicting) * len(others))
    print(f"{len(scored)} answers, {len(contradicting)} contradicting; mean yes-no "
          f"{sum(contradicting) / len(contradicting):.3f} vs {sum(others) / len(others):.3f}; "
          f"AUC (lower = contradiction) {auc:.2f}; {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
