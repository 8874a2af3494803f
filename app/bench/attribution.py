"""How often the misattribution check (app/answer/attribution.py) abstains, on LoCoMo,
without a model.

The check reads only the question and the passages the app retrieves for it, so it can be
measured on every question of every conversation in seconds: the share of category 5
(unanswerable) questions it abstains on, and of categories 1-4 (answerable) it abstains on
wrongly, each with a 95% Wilson interval, per conversation. The check has no fitted threshold,
so no figure here comes from questions it was tuned on.

    locas bench attribution --locomo ../shared/data/chats/locomo-conv26.json \
        ../shared/data/chats/locomo-conv30.json --json attribution.json
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

from app.answer.attribution import misattributed
from locas_engine.bench import bench_parser


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% interval of a share: the normal one is wrong near 0% and 100% on small samples."""
    if n == 0:
        return (0.0, 1.0)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def share(hits: int, n: int) -> dict:
    low, high = wilson(hits, n)
    return {"hits": hits, "n": n, "share": hits / n if n else None, "low": low, "high": high}


def measure(files: list[Path], passages: int) -> dict:
    from app.importers import import_file
    from app.library import Library

    rows, table = [], []
    with tempfile.TemporaryDirectory() as home:
        library = Library(Path(home) / "library.db")
        for path in files:
            doc_id = library.add_document(import_file(path))
            counts = {"unanswerable": [0, 0], "answerable": [0, 0]}
            for qa in json.loads(path.read_text(encoding="utf-8"))["qa"]:
                hits = library.search(qa["question"], document_ids=[doc_id], limit=passages)
                found = misattributed(qa["question"], [p.text for p in hits])
                kind = "unanswerable" if qa["category"] == 5 else "answerable"
                counts[kind][0] += found is not None
                counts[kind][1] += 1
                rows.append({"file": path.name, "category": qa["category"], "question": qa["question"],
                             "abstained": found is not None,
                             "said_of": found.said_of if found else None})
            table.append({"file": path.name, "abstain_unanswerable": share(*counts["unanswerable"]),
                          "false_abstain": share(*counts["answerable"])})
    return {"passages": passages, "table": table, "questions": rows}


def print_table(report: dict) -> None:
    def cell(s: dict) -> str:
        return f"{s['share']:.0%} of {s['n']} ({s['low']:.0%}-{s['high']:.0%})"

    print(f"{'conversation':<22} {'category 5 abstention':<26} false abstention, 1-4")
    for row in report["table"]:
        print(f"{row['file']:<22} {cell(row['abstain_unanswerable']):<26} {cell(row['false_abstain'])}")


def build_parser() -> argparse.ArgumentParser:
    p = bench_parser("attribution", __doc__)
    p.add_argument("--locomo", nargs="+", type=Path, required=True, help="LoCoMo conversation files")
    p.add_argument("--passages", type=int, default=4, help="passages retrieved per question (the app's default)")
    p.add_argument("--json", type=Path, help="write the report here")
    return p


def run(args: argparse.Namespace) -> dict:
    report = measure(args.locomo, args.passages)
    print_table(report)
    return report
