"""Answer scoring as in SQuAD and LoCoMo: token-level F1 after normalization."""

from __future__ import annotations

import random
import re
import string
from collections import Counter
from collections.abc import Sequence

import snowballstemmer

_ARTICLES = re.compile(r"\b(a|an|the|and)\b")
_PUNCT = str.maketrans("", "", string.punctuation)
ABSTAIN_MARKERS = ("not mentioned", "no information", "not specified", "unknown", "don't know",
                   "do not know", "not stated", "no mention", "cannot answer", "can't answer",
                   "does not say")


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


def paired_difference(a: Sequence[float], b: Sequence[float], rounds: int = 2000,
                      seed: int = 0) -> tuple[float, float, float]:
    """Mean of ``a - b`` over the same questions, with a 95% bootstrap interval.

    F1 on a few hundred questions moves by a few hundredths between runs that differ only in
    noise, so a table of means alone invites reading noise as a result. Resampling questions
    (the same draw for both modes, since they answered the same questions) says how sure the
    difference is: an interval that contains 0 is no difference.
    """
    if len(a) != len(b) or not a:
        raise ValueError("paired_difference needs two equally long, non-empty score lists")
    diffs = [x - y for x, y in zip(a, b, strict=True)]
    rng = random.Random(seed)
    n = len(diffs)
    means = sorted(sum(diffs[rng.randrange(n)] for _ in range(n)) / n for _ in range(rounds))
    return sum(diffs) / n, means[int(0.025 * rounds)], means[int(0.975 * rounds) - 1]


def overall_at_tokens(report: dict) -> dict[tuple[str, str], float]:
    """(mode, k) -> overall F1 of the answers cut after k tokens, from a QA report (JSON):
    the table the console and the docs both print."""
    return {(r["mode"], k): r["f1"] for k, rows in report.get("results_at_tokens", {}).items()
            for r in rows if r["category"] == "overall"}


_YES_NO = re.compile(r"^\W*(yes|no)\b", re.IGNORECASE)


def holds_reference(shown: str, reference: str, also: Sequence[str] = (), kind: str | None = None,
                    question: str = "") -> bool:
    """Whether the shown answer holds the reference answer (or one of its ``also`` forms): at
    least 80% of its content words, compared by stem ("boxes" holds "box"). A yes-no answer holds
    "yes" or "no" when it opens with that word; a choice answer (``question`` names the options)
    holds nothing when it names more than one of them ("The grapes were red, green or black.").
    The question-kinds sets' measure (issue 28)."""
    from app.answer.choose import choice_options
    from app.answer.grounding import content_words

    if kind == "choice" and question:
        named = [o for o in choice_options(question) if holds_reference(shown, o)]
        if len(named) > 1:
            return False
    if kind == "yes-no" or normalize_answer(reference) in ("yes", "no"):
        said = _YES_NO.match(shown)
        return bool(said) and said.group(1).lower() == normalize_answer(reference)
    stemmer = snowballstemmer.stemmer("english")
    shown_words = set(stemmer.stemWords(normalize_answer(shown).split()))
    for form in (reference, *also):
        words = content_words(normalize_answer(form)) or set(normalize_answer(form).split())
        stems = set(stemmer.stemWords(sorted(words)))
        if stems and len(stems & shown_words) / len(stems) >= 0.8:
            return True
    return False
