"""The memorized model chooses among candidate answers: the options a choice question names,
yes or no for a polar question, the model's own draft.

Each candidate is a whole answer sentence, scored by the memorized model (memory on) as the
reply to the prompt with the passages, and again to the question alone: the second score is the
candidate's prior, what the model would say without the text. A candidate is chosen by how much
the passages raise it (``gain``), so the text, not the model's habit, must back what is shown.
Scoring whole sentences that differ only in the option keeps the comparison fair: plain span
scoring picks the span that is easiest to copy whatever was asked (issue 28's warning).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from locas_engine import Backbone
from locas_engine.generate import prompt_ids
from locas_engine.score import score_pairs, token_ids

__all__ = ["Candidate", "Form", "choice_options", "option_sentences", "question_form", "score_candidates"]

_POLAR = re.compile(r"^\W*(?:is|are|was|were|am|do|does|did|can|could|will|would|should|shall|has|have|had|"
                    r"may|might|must|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|can't|couldn't|won't|"
                    r"wouldn't|shouldn't|hasn't|haven't|hadn't)\b", re.IGNORECASE)
_ARTICLES = {"a", "an", "the"}
# words that start a phrase after an option inside a sentence ("... the ground-ivy to reach ...")
_TAIL = {"to", "for", "at", "in", "on", "during", "when", "while", "because", "with", "from", "by", "of",
         "after", "before", "than", "into", "so", "if", "as"}
# "was it", "did he": the question's own words opening an option after a colon
_LEAD = re.compile(r"^(?:(?:is|are|was|were|do|does|did|has|have|had|will|would|can|could)\s+"
                   r"(?:it|he|she|they|this|that|there)\s+)", re.IGNORECASE)


@dataclass(frozen=True)
class Form:
    """What kind of answer the question asks for: one of named options, yes or no, or open."""

    kind: str  # "choice", "polar" or "open"
    options: tuple[str, ...] = ()


def _words(text: str) -> list[str]:
    return text.split()


def choice_options(question: str) -> list[str]:
    """The options a question names ("..., the hare or the tortoise?", "red, green or black",
    "a stream or the ground-ivy to reach ..."), or [] when it names none."""
    text = question.strip().rstrip("?").strip()
    at = text.lower().rfind(" or ")
    if at < 0:
        return []
    before, after = text[:at].rstrip().rstrip(","), text[at + 4:].strip()
    boundary = max(before.rfind(":"), before.rfind(","), before.rfind(";"))
    if boundary >= 0 and len(_words(before[boundary + 1:])) <= 6:
        # the options close the question: "..., X or Y", "...: a duck, a turkey or a swan"
        items, head = [before[boundary + 1:].strip()], before[:boundary]
        if before[boundary] == ",":
            while True:  # more items of a comma list: "a duck, a turkey or a swan"
                comma = head.rfind(",")
                chunk = head[comma + 1:]
                if comma < 0 or len(_words(chunk)) > 6 or ":" in chunk:
                    break
                items.insert(0, chunk.strip())
                head = head[:comma]
            colon = head.rfind(":")
            if colon >= 0 and len(_words(head[colon + 1:])) <= 6:
                items.insert(0, head[colon + 1:].strip())
            elif _POLAR.match(question):  # "Were the grapes red, green or black?": the first
                # item is the question's last words, as many as the shortest other option has
                size = min(len(_words(o)) for o in [*items, after])
                items.insert(0, " ".join(_words(head)[-size:]))
        options = [*items, after]
    elif _POLAR.match(question):
        # options inside a polar question ("Did he follow a stream or the ground-ivy to ...?";
        # in a wh-question "with her family or friends" is one thing, not a choice): the second ends where a trailing phrase begins, the first
        # has as many words (articles aside) as the second, with its own article
        words = _words(after)
        cut = next((i for i, w in enumerate(words) if i > 0 and w.lower() in _TAIL), len(words))
        last = " ".join(words[:cut])
        size = len([w for w in words[:cut] if w.lower() not in _ARTICLES])
        head = _words(before)
        first = head[-size:] if size else []
        if len(head) > size and head[-size - 1].lower() in _ARTICLES:
            first = head[-size - 1:]
        options = [" ".join(first), last]
    else:
        return []
    options = [_LEAD.sub("", o).strip(" ,;:") for o in options]
    return [o for o in options if o] if len([o for o in options if o]) >= 2 else []


def question_form(question: str) -> Form:
    options = choice_options(question)
    if options:
        return Form("choice", tuple(options))
    if _POLAR.match(question):
        return Form("polar", ("Yes", "No"))
    return Form("open")


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def option_sentences(options: Sequence[str], draft: str) -> list[str]:
    """One answer sentence per option: the draft's own sentence with the option it names swapped
    for each option in turn ("The Tortoise won the race." / "The Hare won the race."), or the
    bare option when the draft names none of them, or more than one."""
    named = [o for o in options if re.search(rf"\b{re.escape(_bare(o))}\b", draft, re.IGNORECASE)]
    if len(named) != 1 or not draft.strip():
        return [_sentence(o) for o in options]
    pattern = re.compile(rf"(?:\b(?:a|an|the)\s+)?\b{re.escape(_bare(named[0]))}\b", re.IGNORECASE)
    first = _first_sentence(draft)
    out = []
    for option in options:
        swapped = pattern.sub(lambda m, o=option: _cased(o, m.group()), first, count=1)
        out.append(_sentence(swapped))
    return out


def _bare(option: str) -> str:
    """The option without its leading article: "the hare" -> "hare"."""
    words = option.split()
    return " ".join(words[1:]) if len(words) > 1 and words[0].lower() in _ARTICLES else option


def _cased(option: str, replaced: str) -> str:
    """``option`` in the place of ``replaced``, keeping a capital where the sentence had one."""
    return option[:1].upper() + option[1:] if replaced[:1].isupper() else option


def _first_sentence(text: str) -> str:
    m = re.match(r"\s*(.+?[.!?])(?:\s|$)", text, re.DOTALL)
    return (m.group(1) if m else text).strip()


@dataclass
class Candidate:
    text: str
    origin: str  # "draft", "option", "yes-no"
    with_passages: float  # summed log-probability as the reply to the prompt with the passages
    without: float  # the same as the reply to the question alone

    @property
    def gain(self) -> float:
        """How much the passages raise the candidate: what they back, beyond the model's habit."""
        return self.with_passages - self.without


def score_candidates(backbone: Backbone, with_messages: list[dict[str, str]],
                     without_messages: list[dict[str, str]], texts: Sequence[str],
                     batch_size: int = 8) -> list[tuple[float, float]]:
    """(with passages, without) summed log-probabilities of each text as the reply: the prompt
    with the passages is read once for all of them (locas_engine.score), so the cost is that
    prompt plus the short candidates, and the same for the question alone."""
    targets = [token_ids(backbone, t) for t in texts]
    out = []
    for messages in (with_messages, without_messages):
        prompt = prompt_ids(backbone, messages)[0].tolist()
        out.append([sum(s) for s in score_pairs(backbone, [(prompt, t) for t in targets], batch_size)])
    return list(zip(out[0], out[1], strict=True))


# How a choice or a yes/no is made: "gain" (what the passages raise most over the question alone)
# or "with" (the likeliest reply with the passages); None: the draft stands, nothing is scored.
# Switched on only once measured on a book and a chat (docs/answers.md; `locas bench qa
# --choose-by`).
CHOOSE_BY: str | None = None


@dataclass
class Choice:
    text: str  # the answer to show (before its [n])
    origin: str  # "draft" when the draft stands, else "option" or "yes-no"
    candidates: list[Candidate]


def choose(backbone: Backbone, form: Form, draft: str, with_messages: list[dict[str, str]],
           without_messages: list[dict[str, str]], by: str | None = None) -> Choice | None:
    """The memorized model's choice among a choice question's options (each as the draft's own
    sentence) or between yes and no; None for an open question (the draft stands)."""
    by = CHOOSE_BY if by is None else by
    if form.kind == "open" or not by:
        return None
    texts = option_sentences(form.options, draft) if form.kind == "choice" else list(form.options)
    scored = score_candidates(backbone, with_messages, without_messages, texts)
    origin = "option" if form.kind == "choice" else "yes-no"
    candidates = [Candidate(t, origin, w, wo) for t, (w, wo) in zip(texts, scored, strict=True)]
    best = max(candidates, key=lambda c: c.gain if by == "gain" else c.with_passages)
    if form.kind == "polar":
        said = re.match(r"^\W*(yes|no)\b", draft, re.IGNORECASE)
        if said and said.group(1).lower() == best.text.lower():
            return Choice(draft, "draft", candidates)  # the draft already says it
        return Choice(f"{best.text}.", origin, candidates)
    if best.text.rstrip(".").lower() == _first_sentence(draft).rstrip(".").lower():
        return Choice(draft, "draft", candidates)
    return Choice(best.text, origin, candidates)


# The sentence of the passages that the question raises most: a quote the memorized model
# chooses (``best_quote``). Shown, labelled as a quote, by the rule ``SHOW_QUOTE``: "never" (the
# draft stands), "always" for an open question, or "unsupported": when the draft's own words are
# mostly not in its passage. Measured on the question-kinds sets and LoCoMo (docs/answers.md).
SHOW_QUOTE: str = "never"
QUOTE_BELOW = 0.5  # "unsupported": under this share of the draft's own words found in its passage
QUOTE_PASSAGES = 2  # sentences of the best passages are the candidates
QUOTE_INSTRUCTION = "Quote one sentence of the passages."
_QUOTE_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"'”’)]*|\n|$)")


@dataclass
class Quote:
    passage: int  # index into the passages
    span: tuple[int, int]  # the sentence's offsets in it
    text: str
    gain: float  # how much the question raises the sentence, the passages read in both cases


def quote_candidates(passages: Sequence[str], k: int = QUOTE_PASSAGES) -> list[tuple[int, tuple[int, int], str]]:
    """The statements of the first ``k`` passages: (passage, (start, end), text), at least three
    words and no heading or question."""
    out = []
    for i, passage in enumerate(passages[:k]):
        for m in _QUOTE_SENTENCE.finditer(passage):
            text = " ".join(m.group().split())
            letters = [c for c in text if c.isalpha()]
            if len(text.split()) < 3 or text.rstrip("\"'”’)").endswith("?") or all(c.isupper() for c in letters):
                continue
            start = m.start() + len(m.group()) - len(m.group().lstrip())
            out.append((i, (start, m.start() + len(m.group().rstrip())), text))
    return out


def best_quote(backbone: Backbone, question: str, passages: Sequence[str],
               history: Sequence[tuple[str, str]] = ()) -> Quote | None:
    """The sentence of the best passages whose likelihood the question raises most, the passages in
    the prompt both times: what can be copied easily is as easy to copy without the question, so
    only what the question asks for stands out (scoring each sentence as a reply to the question
    alone picks the easiest sentence to copy whatever was asked, issue 28). The passages are read
    once for every sentence and both prompts (locas_engine.score)."""
    from app.answer.prompts import build_messages

    candidates = quote_candidates(passages)
    if not candidates:
        return None
    asked = build_messages(question, passages, history=history)
    neutral = build_messages(QUOTE_INSTRUCTION, passages, history=history)
    contexts = [prompt_ids(backbone, m)[0].tolist() for m in (asked, neutral)]
    targets = [token_ids(backbone, text) for _, _, text in candidates]
    scored = score_pairs(backbone, [(c, t) for c in contexts for t in targets])
    n = len(targets)
    gains = [sum(scored[j]) - sum(scored[n + j]) for j in range(n)]
    best = max(range(n), key=lambda j: gains[j])
    i, span, text = candidates[best]
    return Quote(i, span, text, gains[best])
