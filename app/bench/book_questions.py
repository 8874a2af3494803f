"""A question set written for one book (benchmarks/data/*.json), in the QA bench's terms.

Each item: ``question``, ``answer`` (a short reference answer, or null when the book does not
answer it) and ``section`` (the title of the section that holds the answer). Questions the book
does not answer are category 5, scored like LoCoMo's adversarial ones: right when the answer
abstains. The others are category 4 (single-hop): one section answers them.

The question-kinds sets (``kinds-*.json``) add to each item its ``kind`` (one of ``KINDS``),
``also`` (other acceptable short forms of the answer), ``evidence`` (a verbatim quote from the
section that supports the answer) and, for a follow-up, ``follows`` (the earlier questions of the
same conversation, asked before it). Older sets without them load with ``kind`` None and empty
lists.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

KINDS = ("who", "what", "where", "when", "why", "how-many", "choice", "yes-no", "unanswerable", "follow-up")


def load_book_questions(path: Path) -> list[dict]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    items = data["questions"] if isinstance(data, dict) else data
    out = []
    for item in items:
        answer = item.get("answer")
        out.append({"question": item["question"], "answer": answer if answer is not None else "",
                    "section": item.get("section"), "category": 5 if answer is None else 4,
                    "kind": item.get("kind"), "also": list(item.get("also", [])),
                    "evidence": item.get("evidence"), "follows": list(item.get("follows", []))})
    return out


def book_path(path: Path) -> Path:
    """Where the text a question set was written from lies.

    ``book`` is a path inside the repository (the shipped sample) or the file name of a shared
    book, looked up in ``$LOCAS_SHARED_DATA/books`` or else ``../shared/data/books`` beside the
    checkout. The path is returned whether or not the file is there.
    """
    path = Path(path).resolve()
    book = json.loads(path.read_text(encoding="utf-8"))["book"]
    repo = path.parents[2]  # benchmarks/data/<set>.json
    if (repo / book).exists():
        return repo / book
    shared = os.environ.get("LOCAS_SHARED_DATA") or repo.parent / "shared" / "data"
    return Path(shared) / "books" / book
