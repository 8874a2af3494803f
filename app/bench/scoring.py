"""Answer scoring as in SQuAD and LoCoMo: token-level F1 after normalization."""

from __future__ import annotations

import re
import string
from collections import Counter

_ARTICLES = re.compile(r"\b(a|an|the|and)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
ABSTAIN_MARKERS = ("not mentioned", "no information", "not specified", "unknown", "don't know",
                   "do not know", "not stated", "no mention", "cannot answer", "can't answer")


def normalize_answer(text: str) -> str:
    """Lowercase, drop punctuation, articles ('and' too, as LoCoMo does) and extra spaces."""
    text = str(text).lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1_score(prediction: str, reference: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def abstained(prediction: str) -> float:
    """Category 5 (adversarial) questions have no answer in the conversation: abstaining is right."""
    text = prediction.lower()
    return float(any(marker in text for marker in ABSTAIN_MARKERS))
