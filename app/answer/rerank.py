"""The memorized model reranks the passages the full-text search found.

bm25 finds passages that share the question's words; it cannot tell the passage that answers
"What name does the narrator ask to be called?" from twenty that say "name". The model can: the
passage under which the question is most likely (unsupervised passage reranking, "UPR", Sachan
et al. 2022) is the one the question is about. The memory is on while scoring, so what was
memorized takes part in what is found.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import snowballstemmer

from app.answer.grounding import content_words
from locas_engine import Backbone
from locas_engine.generate import prompt_ids
from locas_engine.score import score_pairs, token_ids

__all__ = ["UPR_INSTRUCTION", "fuse", "passage_window", "question_likelihoods", "rerank"]

# How the passages are ordered: "upr" (by the model's likelihood of the question given each),
# "fused" (that order fused with bm25's), or None: bm25 alone, nothing scored. Switched on only
# once it raises recall@4 on a book and a chat (docs/answers.md; `locas bench retrieval`).
RERANK: str | None = None
CANDIDATES = 16  # passages the full-text search hands the model (cost: one short pass each)

UPR_INSTRUCTION = "Write a question that this passage answers."
PASSAGE_TOKENS = 256  # a passage is cut to this many tokens for scoring (they are 100-200 words)
WINDOW_CHARS = 280  # about 64 tokens: the part of a passage that is scored (see passage_window)
_UNIT = re.compile(r"[^\n]+")  # a chat line, or a paragraph's line
_SENTENCE = re.compile(r"[^.!?\n]+(?:[.!?]+[\"'”’)]*|\n|$)")


def _stems(stemmer, text: str) -> set[str]:
    return set(stemmer.stemWords(sorted(content_words(text))))


def passage_window(text: str, question: str, max_chars: int = WINDOW_CHARS) -> str:
    """The run of whole sentences (chat lines) of ``text``, at most ``max_chars`` long, that holds
    the most of the question's word stems: what the model reads of a passage when it reranks.
    Scoring a whole 200-word passage costs four times as much, and the answer is one line of it."""
    if len(text) <= max_chars:
        return text
    unit = _UNIT if "\n" in text.strip() and "\n\n" not in text else _SENTENCE
    spans = [(m.start(), m.end()) for m in unit.finditer(text) if m.group().strip()]
    if not spans:
        return text[:max_chars]
    stemmer = snowballstemmer.stemmer("english")
    wanted = _stems(stemmer, question)
    found = [_stems(stemmer, text[a:b]) & wanted for a, b in spans]
    best, best_key = (spans[0][0], spans[0][1]), (-1, 0)
    for i in range(len(spans)):
        j, covered = i, set(found[i])
        while j + 1 < len(spans) and spans[j + 1][1] - spans[i][0] <= max_chars:
            j += 1
            covered |= found[j]
        key = (len(covered), -i)
        if key > best_key:
            best, best_key = (spans[i][0], spans[j][1]), key
    return text[best[0]:min(best[1], best[0] + max_chars)].strip()


def question_likelihoods(backbone: Backbone, question: str, passages: Sequence[str],
                         history: Sequence[str] = (), batch_size: int = 8,
                         passage_tokens: int = PASSAGE_TOKENS) -> list[float]:
    """For each passage: the summed log-probability of the question as the reply to "Passage:
    ... Write a question that this passage answers." ``history`` holds the conversation's earlier
    questions: a follow-up ("And what is his job?") is scored after them, as one text."""
    tok = backbone.tokenizer
    target = token_ids(backbone, " ".join([*history, question]).strip())
    pairs = []
    for text in passages:
        cut = token_ids(backbone, text)[:passage_tokens]
        shown = tok.decode(cut, skip_special_tokens=True)
        messages = [{"role": "user", "content": f"Passage: {shown}\n\n{UPR_INSTRUCTION}"}]
        pairs.append((prompt_ids(backbone, messages)[0].tolist(), target))
    return [sum(s) for s in score_pairs(backbone, pairs, batch_size=batch_size)]


def fuse(bm25_order: Sequence[int], scores: Sequence[float], k: float = 60.0,
         weight: float = 1.0) -> list[int]:
    """Reciprocal-rank fusion of the bm25 order (indices, best first) and the model's scores
    (higher is better): each passage gets 1/(k + bm25 rank) + weight/(k + model rank)."""
    n = len(scores)
    model_rank = {i: r for r, i in enumerate(sorted(range(n), key=lambda i: -scores[i]))}
    bm25_rank = {i: r for r, i in enumerate(bm25_order)}
    fused = {i: 1 / (k + bm25_rank.get(i, n)) + weight / (k + model_rank[i]) for i in range(n)}
    return sorted(range(n), key=lambda i: -fused[i])


def rerank(backbone: Backbone, question: str, passages: Sequence, history: Sequence[str] = (),
           method: str | None = None) -> list:
    """``passages`` (library Passages, bm25 order) reordered by the model (``RERANK`` or
    ``method``), each read as its best window (``passage_window``)."""
    method = method or RERANK
    if not method or len(passages) < 2:
        return list(passages)
    query = " ".join([*history, question])
    scores = question_likelihoods(backbone, question, [passage_window(p.text, query) for p in passages], history)
    order = fuse(list(range(len(passages))), scores) if method == "fused" else \
        sorted(range(len(passages)), key=lambda i: -scores[i])
    return [passages[i] for i in order]
