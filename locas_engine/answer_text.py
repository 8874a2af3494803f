"""Rules on an answer's text while it is written: where it must end and what is shown of it.

A 135M model given passages or a memory of a text does three things a reader should never see:
it loops ("the story of the story of the story ..."), it runs on into the source's own format
(a new line that replays a chat line or a chapter heading), and it sometimes ends after a
preamble ("The answer to this question is:") with nothing after it. These rules are plain text,
so they hold for any tokenizer and are tested without a model. What a line in the source's own
format looks like depends on the source, so the caller says (``source_line``): the engine holds
no rule about any kind of text.
``AnswerText`` is fed the whole decoded answer after every token; it says whether to stop,
how much of the text is safe to show already (nothing a later cut could take back), and the
final answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

LOOP_NGRAM = 6  # a word 6-gram written twice means the answer has started to loop
PHRASE_NGRAM, PHRASE_MAX = 4, 2  # and no word 4-gram may be written a third time
# "answer" or "answer to this question": the words both rules below look for
_ANSWER_WORDS = r"answer\b(?:\s+to\s+(?:this|the|your)\s+question)?"
# Openings that say nothing yet: the answer is not complete while only these were written.
_PREAMBLE = re.compile(
    r"^\s*(?:(?:sure|okay|ok|well)[,.!]?\s*)?(?:(?:the|my|here is the|here's the)\s+)?"
    r"(?:short\s+|brief\s+)?" + _ANSWER_WORDS +
    # then "is", a colon or the end: "The answer lies in friendship" and "Answerable" are prose
    r"(?:(?:\s+is)?\s*[:\-]\s*|\s+is\b\s*|\s*$)",
    re.IGNORECASE,
)
_LINE_JUDGED_AFTER = 60  # characters: a line this long that is no source line is prose
_WORD = re.compile(r"\w+(?:['’]\w+)*")
# Loops are counted in plain \w+ words, "I'm" being two: "I'm a baker and I'm a baker. I'm a
# baker" repeats a 4-gram three times. The QA bench counts loops with the same words
# (app/bench/answer_checks.py), so an answer the engine lets through is never a loop there.
LOOP_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?](?=\s|$)")
_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’»)\]]*$")  # the text's last sentence is whole
HELD_WORDS = LOOP_NGRAM  # words held back while streaming: a loop found later may cut them


def strip_preamble(text: str) -> str:
    """``text`` without an opening like "The answer to this question is:"."""
    m = _PREAMBLE.match(text)
    if m and m.group().strip():
        rest = text[m.end():]
        return rest[:1].upper() + rest[1:] if rest[:1].islower() else rest
    return text


def has_content(text: str) -> bool:
    """True once the answer says something beyond a preamble."""
    return any(ch.isalnum() for ch in strip_preamble(text))


# A later line that starts the answer over ("The answer is: 10."): the answer was already given.
_RESTART = re.compile(r"^\s*(?:(?:the|my|final|short)\s+)*" + _ANSWER_WORDS + r"\s*(?:is\b|:)", re.IGNORECASE)


def repeat_start(text: str) -> int | None:
    """Character offset where the answer starts to repeat itself, else None: where a word
    6-gram occurs for the second time, or a word 4-gram for the third (parallel sentences such
    as "A was defeated by the lion. B was defeated by the fox." are not a loop)."""
    words = [(m.group().lower(), m.start()) for m in LOOP_WORD.finditer(text)]
    cuts = []
    for n, allowed in ((LOOP_NGRAM, 1), (PHRASE_NGRAM, PHRASE_MAX)):
        count: dict[tuple[str, ...], int] = {}
        for i in range(len(words) - n + 1):
            gram = tuple(w for w, _ in words[i:i + n])
            count[gram] = count.get(gram, 0) + 1
            if count[gram] > allowed:
                cuts.append(words[i][1])
                break
    return min(cuts) if cuts else None


def _cut_to_sentence(text: str) -> str:
    """``text`` cut after its last complete sentence, when it has one."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text)]
    return text[:ends[-1]] if ends and has_content(text[:ends[-1]]) else text


def trim_unfinished(text: str, at_budget: bool = False) -> str:
    """``text`` without a last sentence that was cut off ("... while the Hare was the"): an
    answer that ran into its token budget mid-sentence ends after its last full sentence.
    Cut off means it stops on a word no sentence ends with ("the", "was", "their") or on a
    comma, or, when the caller knows the answer used its whole token budget (``at_budget``),
    that it does not end a sentence ("... Every evening she climbed"). Otherwise an answer that
    merely lacks a full stop ("... on 9 June 2023") is kept whole; so is one without a full
    sentence before the cut, or whose cut would keep fewer than three words. A list marker
    ("2.") is not the end of a sentence."""
    text = text.rstrip()
    last = _WORD.findall(text[-40:])
    if not (text.endswith((",", ";", ":", "-", "—")) or (last and last[-1].lower() in DANGLING_WORDS)
            or (at_budget and not _ENDS_SENTENCE.search(text))):
        return text
    ends = [m.end() for m in _SENTENCE_END.finditer(text) if not _LIST_MARKER.search(text[:m.end()])]
    whole = text[:ends[-1]] if ends else text
    return whole if len(_WORD.findall(whole)) >= 3 and has_content(whole) else text


# Words an English sentence does not end with: an answer that stops on one was cut off.
DANGLING_WORDS = frozenset(
    "a an the and or but nor of to in on at by for with from into onto about as than that which "
    "who whose whom is are was were be been being has have had do does did will would shall should "
    "can could may might must its their his my our your it's they're we're i'm he's she's "
    "very more most so because while when where if then also not".split())
_LIST_MARKER = re.compile(r"(?:^|\s)\d{1,2}\.$")  # "2." opening an item, not ending a sentence


@dataclass
class AnswerText:
    """The rules above, applied to one answer as it grows (see the module docstring).
    ``source_line(line)``: whether a line opens in the source's own format (None: never)."""

    source_line: Callable[[str], bool] | None = None
    text: str = ""
    stopped_for: str | None = None  # "source-line", "loop" or None
    _cut: int | None = field(default=None, repr=False)

    def update(self, text: str) -> bool:
        """Take the whole answer so far; True when the answer must end here."""
        self.text = text
        loop = repeat_start(text)
        if loop is not None:
            self._cut, self.stopped_for = loop, "loop"
            return True
        line_start = self._source_line_start(text)
        if line_start is not None:
            self._cut, self.stopped_for = line_start, "source-line"
            return True
        return False

    def _is_source_line(self, line: str) -> bool:
        return self.source_line is not None and self.source_line(line)

    def _source_line_start(self, text: str) -> int | None:
        """Offset of a later line (not the first) that opens in the source's format, or that
        starts the answer over."""
        offset = 0
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if i > 0 and line.strip() and (self._is_source_line(line) or _RESTART.match(line)) \
                    and has_content(text[:offset]):
                return offset
            offset += len(line) + 1
        return None

    def safe(self) -> int:
        """How many characters can be shown now: no later rule can cut before this point."""
        text = self.text
        limit = len(text)
        newline = text.rfind("\n")
        if newline >= 0 and has_content(text[:newline]):
            last_line = text[newline + 1:]
            if len(last_line) < _LINE_JUDGED_AFTER or self._is_source_line(last_line):
                limit = newline  # a later line is shown once it is known not to be the source's
        words = list(_WORD.finditer(text))
        if len(words) >= HELD_WORDS:
            limit = min(limit, words[-HELD_WORDS].start())
        else:
            limit = 0 if words else limit
        return limit

    def shown(self) -> str:
        """The part of the answer that can be shown while it is still being written."""
        text = self.text.lstrip()
        m = _PREAMBLE.match(text)
        skip = m.end() if m and m.group().strip() else 0  # the preamble is never shown
        safe = self.safe() - (len(self.text) - len(text))
        return clean(strip_preamble(text)[:max(0, safe - skip)])

    def final(self, keep: int = 0) -> str:
        """The answer to show: cut where a rule stopped it, without preamble; "" when it says
        nothing. A loop is cut back to its last full sentence unless that would take back more
        than the first ``keep`` characters already shown."""
        text = self.text if self._cut is None else self.text[:self._cut]
        answer = clean(text)
        if self.stopped_for == "loop":
            whole = clean(_cut_to_sentence(text))
            if len(whole) >= keep:
                answer = whole
        return answer


_DANGLING_MARKER = re.compile(r"\n\s*(?:\d{1,2}[.)]|[-*•])?\s*$")


def clean(text: str) -> str:
    """Answer text without surrounding space, preamble, or a list marker left alone on the
    last line ("...\n2."); "" when nothing is said."""
    text = _DANGLING_MARKER.sub("", text)
    text = strip_preamble(text.strip()).strip()
    return text if has_content(text) else ""
