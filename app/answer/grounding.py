"""Which passage an answer rests on, the sentence in it that supports the answer, and whether
the evidence is too weak to answer at all ("The text does not say.").

A 135M model rarely writes a reliable [n] itself, so the cited passage is the one the answer
names when it names a valid one, otherwise the passage that shares the most of the answer's
words. The supporting sentence is the sentence of that passage sharing the most words with the
question and the answer: what a reader checks in one glance. A when-question is answered with
the date that sentence gives (app/answer/dates.py).

The answer abstains ("The text does not say.") when the model wrote nothing or said itself that
the passages do not say. Before writing, a chat question asked of the wrong person abstains too
(app/answer/attribution.py). A linear rule over the evidence measured on every answer with passages
(``Evidence``: the model's own confidence and how well the passages match the question) can also
decide it; it is calibrated by app/bench/calibrate.py and stays off (``ABSTAIN_RULE``), because on
LoCoMo no such rule abstained more often rightly than wrongly (docs/benchmarks.md).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import snowballstemmer

from app.answer.dates import asks_when, date_in, message_text
from locas_engine.answer_text import trim_unfinished

ABSTAIN_TEXT = "The text does not say."
_CITE = re.compile(r"\[(\d{1,2})\]")
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"'”’)]*|\n|$)")
STOPWORDS = frozenset(
    "a an the and or but of to in on at by for with from as is are was were be been being it its "
    "this that these those he she they we you i me him her them us his hers their our your my "
    "what who whom whose which when where why how did do does done has have had not no yes so "
    "if then than there here about into over after before up down out also just very can could "
    "would should will shall may might must".split())


def content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in STOPWORDS}


# The model's own "the passage does not say": an honest answer that the prefer-passage rule
# must not replace with a sentence of a passage that does not answer either.
_NOT_SAID = re.compile(
    r"\b(passages?|text|conversation|chat|story|book|chapter|context)s? (does|do|did) not "
    r"(say|mention|state|specify|tell|provide|include|contain|give|indicate)"
    r"|\b(passages?|text|conversation|chat|story|book|chapter|context)s? (doesn't|don't|didn't) "
    r"(say|mention|state|specify|tell|provide|include|contain|give|indicate)"
    r"|\bno (information|mention|details?) (about|of|on|regarding)\b"
    r"|\bnot (mentioned|stated|specified|said) in the (passages?|text|conversation|chat|story|book)",
    re.IGNORECASE)


def says_not_in_text(answer: str) -> bool:
    """Whether the answer itself says the text does not hold the answer."""
    return bool(_NOT_SAID.search(answer))


def strip_citations(text: str) -> str:
    """The answer without its [n] markers (for scoring and for comparing words)."""
    return " ".join(_CITE.sub(" ", text).split())


def cited_passage(answer: str, passages: Sequence[str]) -> int | None:
    """0-based index of the passage the answer rests on, or None without passages."""
    if not passages:
        return None
    for m in _CITE.finditer(answer):
        n = int(m.group(1))
        if 1 <= n <= len(passages):
            return n - 1
    words = content_words(strip_citations(answer))
    overlaps = [len(words & content_words(p)) for p in passages]
    return max(range(len(passages)), key=lambda i: (overlaps[i], -i))


def _is_heading(sentence: str) -> bool:
    """A title line in capitals ("HANS CHRISTIAN ANDERSEN"), not a statement."""
    letters = [ch for ch in sentence if ch.isalpha()]
    return len(letters) >= 2 and all(ch.isupper() for ch in letters)


def supporting_sentence(passage: str, question: str, answer: str) -> tuple[int, int]:
    """(start, end) character offsets in ``passage`` of its sentence that best supports the
    answer: a statement before a question or a heading, then most words shared with the answer
    and the question, then with the answer.

    Words are compared by their stems, so "the box of gold" answers "What was in the boxes?"
    and "brings it after thirty days" answers "bringing it back after thirty days" (on the book
    set it changed the sentence of 5 of 43 answers: 2 now right, 3 wrong before and after;
    docs/benchmarks.md)."""
    stemmer = snowballstemmer.stemmer("english")  # one per call: a stemmer is not thread-safe

    def stems(text: str) -> set[str]:
        return set(stemmer.stemWords(sorted(content_words(text))))

    answer_words = stems(strip_citations(answer))
    question_words = stems(question)
    best, best_key = (0, len(passage)), (-1, -1)
    for m in _SENTENCE.finditer(passage):
        sentence = m.group()
        if not sentence.strip():
            continue
        words = stems(sentence)
        # words shared with the answer and the question together: a sentence that repeats the
        # answer's incidental words ("put forth his full speed") but not what was asked loses;
        # and neither a question in the passage ("You play any instruments?") nor a heading
        # ("THE REAL PRINCESS") answers anything, so any statement sharing a word comes first
        shared = len(words & answer_words) + len(words & question_words)
        statement = shared > 0 and not sentence.rstrip().rstrip("\"'”’)").endswith("?") \
            and not _is_heading(sentence)
        key = (statement, shared, len(words & answer_words))
        if key > best_key:
            start = m.start() + len(sentence) - len(sentence.lstrip())
            best, best_key = (start, m.start() + len(sentence.rstrip())), key
    return best


def with_citation(answer: str, cited: int | None) -> str:
    """The answer marked with the passage it used, unless it already names one."""
    if cited is None or _CITE.search(answer) or not answer:
        return answer
    return f"{answer} [{cited + 1}]"


@dataclass
class Evidence:
    """What is measured about an answer with passages (all cheap but ``lp_*``: one extra pass)."""

    retrieval: float  # best passage's bm25 relevance (higher: better match)
    question_coverage: float  # share of the question's content words found in the cited passage
    answer_support: float  # share of the answer's own content words (those not in the question)
    # found in the cited passage: an answer that restates the question is backed by nothing
    lp_with: float  # mean log-probability of the answer's tokens, passages in the prompt
    lp_without: float | None = None  # the same without the passages: one more model pass, so
    # measured only when the rule reads it or the calibration bench asks (``full_evidence``)

    def features(self) -> dict[str, float]:
        out = {k: v for k, v in asdict(self).items() if v is not None}
        if self.lp_without is not None:  # how much the passages back the answer
            out["lp_gain"] = self.lp_with - self.lp_without
        return out


def overlap(words: set[str], text: str) -> float:
    return len(words & content_words(text)) / len(words) if words else 0.0


# Fitted by app/bench/calibrate.py on LoCoMo (see docs/benchmarks.md): the rule
# abstains when sum(weight * feature) + bias > 0. None: no rule calibrated, never abstain.
ABSTAIN_RULE: dict[str, float] | None = None


def should_abstain(evidence: Evidence, rule: dict[str, float] | None = None) -> bool:
    rule = ABSTAIN_RULE if rule is None else rule
    if not rule:
        return False
    features = evidence.features()
    score = rule.get("bias", 0.0) + sum(w * features[k] for k, w in rule.items() if k != "bias")
    return score > 0 and math.isfinite(score)


@dataclass
class Grounded:
    """The answer as shown, with what backs it."""

    text: str  # with its [n]; ABSTAIN_TEXT when it abstained
    abstained: bool
    cited: int | None  # 0-based index into the citations
    # character offsets of the supporting sentence in that passage; None when nothing backs what
    # is shown (an abstention): readers of an answer show a support whenever there is one
    support: tuple[int, int] | None
    evidence: dict[str, float] | None
    quote: bool = False  # the text is read off the passage (a date), not the model's words


def needs_plain_score(rule: dict[str, float] | None) -> bool:
    """Whether ``rule`` reads the answer's score without passages (an extra model pass)."""
    return bool(rule) and any(k in ("lp_without", "lp_gain") for k in rule)


def ground(question: str, answer: str, passages: Sequence[str], scores: Sequence[float],
           logprob, full_evidence: bool = False, at_budget: bool = False) -> Grounded:
    """Mark the answer's passage, find its supporting sentence, and abstain when the evidence
    is too weak (``logprob(passages, answer)`` scores the answer with those passages).
    ``full_evidence`` also scores it without them, for the calibration bench; otherwise that
    pass runs only when the abstention rule reads it. ``at_budget``: the model wrote its whole
    token budget, so an answer that does not end a sentence was cut off (``trim_unfinished``).

    An answer that says nothing (the engine returns "" for an empty or preamble-only answer)
    is the honest abstention, not a blank."""
    answer = answer.strip()
    if not answer:
        return Grounded(ABSTAIN_TEXT, True, None, None, None)
    if not passages:
        return Grounded(trim_unfinished(answer, at_budget), False, None, None, None)
    cited = cited_passage(answer, passages)
    plain = strip_citations(answer)
    if says_not_in_text(plain):  # the model's honest abstention, said in the app's words
        return Grounded(ABSTAIN_TEXT, True, cited, None, None)
    evidence = Evidence(
        retrieval=-min(scores) if scores else 0.0, question_coverage=overlap(content_words(question), passages[cited]),
        answer_support=overlap(content_words(plain) - content_words(question), passages[cited]),
        lp_with=logprob(passages, plain),
        lp_without=logprob([], plain) if full_evidence or needs_plain_score(ABSTAIN_RULE) else None)
    if should_abstain(evidence):  # nothing supports "the text does not say": no sentence shown
        return Grounded(ABSTAIN_TEXT, True, cited, None, evidence.features())
    support = supporting_sentence(passages[cited], question, plain)
    if asks_when(question):
        # A when-question is answered by the date its supporting sentence gives, read off the
        # text rather than copied by the model (answer_dates.py); the sentence is shown beside it.
        # A chat line the model replayed is matched by what it says: its stamp would pick the
        # sentence that opens that line, whichever sentence of it answers.
        said = message_text(plain)
        dated = supporting_sentence(passages[cited], question, said) if said != plain else support
        day = date_in(passages[cited], dated)
        if day is not None:
            return Grounded(with_citation(f"{day[:1].upper()}{day[1:]}.", cited), False, cited, dated,
                            evidence.features(), quote=True)
    # The model's answer is shown as it wrote it, never replaced by a sentence of the passage
    # (the rule that did so, "prefer the passage", threw away right answers made of the
    # question's words; docs/answers.md), without a last sentence the token budget cut off
    trimmed = trim_unfinished(plain, at_budget)
    shown = answer if trimmed == plain else trimmed
    return Grounded(with_citation(shown, cited), False, cited, support, evidence.features())


def answer_dict(answer) -> dict:
    """An app Answer as one JSON-ready object (``locas ask --json``): the answer, whether it
    abstained, and each passage with its document, section and best supporting sentence."""
    passages = []
    for i, p in enumerate(answer.citations):
        if i == answer.cited and answer.support:
            start, end = answer.support
        else:
            start, end = supporting_sentence(p.text, answer.question, answer.draft)
        passages.append({"n": i + 1, "cited": i == answer.cited, "document": p.document_title,
                         "document_id": p.document_id, "section": p.section_title,
                         "section_number": p.section_number,
                         "start": p.start, "end": p.end, "text": p.text,
                         "support": p.text[start:end], "support_span": [start, end]})
    return {"question": answer.question, "answer": answer.text, "abstained": answer.abstained,
            # what "answer" is: the model's "draft" as it wrote it, its chosen "option" or
            # "yes-no", a "quote" read off the text, or "abstained"; "draft" is what it wrote
            "chosen": answer.chosen, "draft": answer.draft, "cited": None if answer.cited is None else answer.cited + 1,
            "passages": passages, "memories": list(answer.memories),
            "seconds": round(answer.seconds, 3)}
