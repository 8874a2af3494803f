"""`locas bench qa` under a variant of the answer prompt (issue 18: does the prompt or the passage
order lower contradictions?). Measured in docs/benchmarks.md; none was adopted.

    python benchmarks/issue18_prompt_variants.py VARIANT [locas bench qa arguments...]

VARIANT: ``base`` (the app's prompt), ``reverse`` (the best passage last, next to the question,
each keeping its number), ``strict`` (a system line that asks for the passages' words only and
for "The text does not say." otherwise), ``strict-reverse`` (both).
"""

from __future__ import annotations

import sys

import app.answering as answering
import app.prompts as prompts
from app.bench import qa

STRICT = ("You are a careful reading assistant. Answer briefly in one sentence, using only what the "
          "numbered passages say. If they do not say, answer: The text does not say.")


def reverse(question, passages=(), history=()):
    """The app's prompt with the passages in reverse order, each keeping its number [n]."""
    if not passages:
        return prompts.build_messages(question, passages, history)
    messages = prompts.build_messages(question, ["-"], history)
    numbered = "\n\n".join(f"[{i}] {t.strip()}" for i, t in reversed(list(enumerate(passages, 1))))
    messages[-1]["content"] = f"Passages:\n{numbered}\n\nQuestion: {question}"
    return messages


def main(argv: list[str]) -> None:
    variant, bench_args = argv[0], argv[1:]
    if variant not in ("base", "reverse", "strict", "strict-reverse"):
        raise SystemExit(__doc__)
    if variant.startswith("strict"):
        prompts.SYSTEM_WITH_PASSAGES = STRICT
    if variant.endswith("reverse"):
        answering.build_messages = reverse  # what prepare_answer calls
    qa.main(bench_args)


if __name__ == "__main__":
    main(sys.argv[1:])
