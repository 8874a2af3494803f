"""`locas bench qa` under a variant of the answer prompt (issue 18: does the prompt or the passage
order lower contradictions or lift F1?). Measured in docs/benchmarks.md. One was adopted: the best
passage next to the question (the eleventh session); the worked examples lift F1 but write
answers a reader should not get (see there).

    python benchmarks/issue18_prompt_variants.py VARIANT [locas bench qa arguments...]

VARIANT: ``base`` (the app's prompt), ``example`` (three worked examples before the question,
each a question on one numbered passage answered in a few words: a chat line, a chat date, a
story), ``two-examples`` (without the date one), ``forward`` (the best passage first, far from
the question: the app's order before the eleventh session; until then this variant was
``reverse``, the order the app now has), ``strict`` (a system line that asks for the passages'
words only and for "The text does not say." otherwise), ``strict-forward`` (both), ``short`` (a system
line that asks for a short phrase in the passages' words, as LoCoMo's own evaluation prompt
does), ``short-user`` (the same request after the question, where a small model reads it last).
"""

from __future__ import annotations

import sys

import app.answer.pipeline as answering
import app.answer.prompts as prompts
from app.bench import qa

STRICT = ("You are a careful reading assistant. Answer briefly in one sentence, using only what the "
          "numbered passages say. If they do not say, answer: The text does not say.")

SHORT = ("You are a helpful reading assistant. Answer with a short phrase, using the numbered "
         "passages' own words when you can.")
SHORT_USER = "Answer with a short phrase from the passages."


def short_user(question, passages=(), history=()):
    """The app's prompt with a request for a short phrase after the question."""
    messages = prompts.build_messages(question, passages, history)
    if passages:
        messages[-1]["content"] += "\n" + SHORT_USER
    return messages

# Made up, not from any text the benchmarks ask about.
EXAMPLES = (
    ("[3 May 2021, 10:02 am] Anna: We finally adopted a puppy last Sunday [the Sunday before 3 May 2021]! "
     "Her name is Biscuit.\n[3 May 2021, 10:04 am] Tom: Congrats, Anna! Biscuit is a great name.",
     "What is the name of Anna's puppy?", "Biscuit. [1]"),
    ("[12 June 2021, 6:40 pm] Tom: I ran my first marathon yesterday [11 June 2021]. My legs still hurt!",
     "When did Tom run his first marathon?", "11 June 2021. [1]"),
    ("The miller had three sons. When he died, the eldest took the mill, the second the donkey, "
     "and the youngest was left only the cat.",
     "What did the youngest son get?", "Only the cat. [1]"),
)


def with_examples(examples):
    """The app's prompt after worked examples, each its own user/assistant turn."""
    def build(question, passages=(), history=()):
        if not passages:
            return prompts.build_messages(question, passages, history)
        shown = [(prompts.passages_turn(q, [(1, text)]), a) for text, q, a in examples]
        return prompts.build_messages(question, passages, [*shown, *history])
    return build


def forward(question, passages=(), history=()):
    """The app's prompt with the passages in rank order, the best one [1] first."""
    if not passages:
        return prompts.build_messages(question, passages, history)
    messages = prompts.build_messages(question, passages, history)
    messages[-1]["content"] = prompts.passages_turn(question, enumerate(passages, 1))
    return messages


def main(argv: list[str]) -> None:
    variant, bench_args = argv[0], argv[1:]
    if variant not in ("base", "forward", "strict", "strict-forward", "short", "short-user", "example",
                       "two-examples"):
        raise SystemExit(__doc__)
    if variant == "short":
        prompts.SYSTEM_WITH_PASSAGES = SHORT
    if variant == "short-user":
        answering.build_messages = short_user
    if variant == "example":
        answering.build_messages = with_examples(EXAMPLES)
    if variant == "two-examples":
        answering.build_messages = with_examples([e for e in EXAMPLES if not e[1].startswith("When")])
    if variant.startswith("strict"):
        prompts.SYSTEM_WITH_PASSAGES = STRICT
    if variant.endswith("forward"):
        answering.build_messages = forward  # what prepare_answer calls
    qa.main(bench_args)


if __name__ == "__main__":
    main(sys.argv[1:])
