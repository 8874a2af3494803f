"""Checks of every answer in a QA report that F1 does not see: loops, empty answers, abstention,
and answers that contradict the passage they cite. They are the issue's targets for trust."""

from __future__ import annotations

from app.answer.grounding import content_words, strip_citations
from app.bench.scoring import abstained, f1_score
from locas_engine.answer_text import LOOP_WORD, PHRASE_MAX, PHRASE_NGRAM, has_content


def max_ngram_repeats(text: str, n: int = PHRASE_NGRAM) -> int:
    """The most times any word n-gram occurs in ``text`` (3 or more: the answer loops)."""
    words = LOOP_WORD.findall(text.lower())  # the words the engine counts loops in
    counts: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        gram = tuple(words[i:i + n])
        counts[gram] = counts.get(gram, 0) + 1
    return max(counts.values(), default=0)


def contradicts(answer: str, reference: str, passage: str) -> bool:
    """The cited passage holds the reference answer (most of its content words), but the answer
    shares none of them: the answer says otherwise than its own passage (the hare case)."""
    ref = content_words(reference)
    if not ref or abstained(answer):
        return False
    held = len(ref & content_words(passage)) / len(ref)
    return held >= 0.8 and f1_score(answer, reference) == 0.0


def answer_checks(answers: list[dict], modes: list[str]) -> list[dict]:
    """Per mode: loops, empty or preamble-only answers, abstention on unanswerable questions
    (category 5) and false abstention on the others, and contradictions of the cited passage."""
    out = []
    for mode in modes:
        rows = [a for a in answers if a["mode"] == mode]
        if not rows:
            continue
        answerable = [a for a in rows if a["category"] != "adversarial"]
        unanswerable = [a for a in rows if a["category"] == "adversarial"]
        cited = [a for a in answerable if "contradicts" in a]
        out.append({
            "mode": mode, "n": len(rows),
            "loops": sum(max_ngram_repeats(a["prediction"]) > PHRASE_MAX for a in rows),
            "empty": sum(not has_content(strip_citations(a["prediction"])) for a in rows),
            "abstain_unanswerable": _share(unanswerable, lambda a: abstained(a["prediction"])),
            "false_abstain": _share(answerable, lambda a: abstained(a["prediction"])),
            "contradicts": _share(cited, lambda a: a["contradicts"]),
            "n_unanswerable": len(unanswerable), "n_answerable": len(answerable), "n_cited": len(cited),
        })
    return out


def _share(rows: list[dict], test) -> float | None:
    return sum(bool(test(a)) for a in rows) / len(rows) if rows else None


def print_checks(checks: list[dict]) -> None:
    if not checks:
        return
    print(f"\n{'mode':<22}{'loops':>7}{'empty':>7}{'abstain (cat 5)':>17}{'false abstain':>15}{'contradicts':>13}")

    def pct(v):
        return f"{100 * v:.0f}%" if v is not None else "-"

    for c in checks:
        print(f"{c['mode']:<22}{c['loops']:>7}{c['empty']:>7}{pct(c['abstain_unanswerable']):>17}"
              f"{pct(c['false_abstain']):>15}{pct(c['contradicts']):>13}")
    print("(loops: answers with a word 4-gram 3+ times; empty: no content; contradicts: the cited "
          "passage holds the reference, the answer none of it)")
