"""A question set written for one book (benchmarks/data/*.json), in the QA bench's terms.

Each item: ``question``, ``answer`` (a short reference answer, or null when the book does not
answer it) and ``section`` (the title of the section that holds the answer). Questions the book
does not answer are category 5, scored like LoCoMo's adversarial ones: right when the answer
abstains. The others are category 4 (single-hop): one section answers them.
"""

from __future__ import annotations

import json
from pathlib import Path


def load_book_questions(path: Path) -> list[dict]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    items = data["questions"] if isinstance(data, dict) else data
    out = []
    for item in items:
        answer = item.get("answer")
        out.append({"question": item["question"], "answer": answer if answer is not None else "",
                    "section": item.get("section"), "category": 5 if answer is None else 4})
    return out
