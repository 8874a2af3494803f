"""The tables of a `locas bench qa` report: mean score per mode and LoCoMo category, the paired
comparisons of the issue's mode pairs, and the per-kind table of the question-kinds sets (holds
the reference, abstention, false abstention, right drafts lost). Shared by the QA bench and by
`locas bench combine`, which pools reports run apart.
"""

from __future__ import annotations

from app.bench.answer_checks import print_checks
from app.bench.scoring import abstained, overall_at_tokens, paired_difference

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
# The target: memory+retrieval above both of these, overall.
COMPARISONS = (("memory+retrieval", "retrieval"), ("memory+retrieval", "memory"),
               ("memory+recent-context", "recent-context"))


def kind_table(answers: list[dict]) -> list[dict]:
    """Per mode and question kind (the question-kinds sets): how often the shown answer holds the
    reference (answerable kinds) or abstains (unanswerable), and false abstention; with, over every
    answer of the mode, the right drafts the shown answer lost (the draft holds the reference, the
    shown answer does not)."""
    out = []
    for mode in dict.fromkeys(a["mode"] for a in answers):
        rows = [a for a in answers if a["mode"] == mode]
        kinds = [k for k in dict.fromkeys(a.get("kind") for a in rows) if k]
        for kind in kinds:
            these = [a for a in rows if a.get("kind") == kind]
            if kind == "unanswerable":
                out.append({"mode": mode, "kind": kind, "n": len(these),
                            "abstained": sum(a["score"] for a in these) / len(these)})
            else:
                out.append({"mode": mode, "kind": kind, "n": len(these),
                            "holds": sum(bool(a.get("holds")) for a in these) / len(these)})
        answerable = [a for a in rows if a["category"] != "adversarial"]
        kinded = [a for a in answerable if a.get("kind")]
        summary = {"mode": mode, "kind": "all", "n": len(rows),
                   "draft_replaced": sum(bool(a.get("draft_holds")) and not a.get("holds") for a in answerable),
                   "draft_holds": sum(bool(a.get("draft_holds")) for a in answerable),
                   "false_abstained": sum(abstained(a["prediction"]) for a in answerable) / max(len(answerable), 1)}
        if kinded:
            summary["holds"] = sum(bool(a.get("holds")) for a in kinded) / len(kinded)
            summary["n_answerable"] = len(kinded)
            unanswerable = [a for a in rows if a.get("kind") == "unanswerable"]
            if unanswerable:
                summary["abstained"] = sum(a["score"] for a in unanswerable) / len(unanswerable)
                summary["n_unanswerable"] = len(unanswerable)
        out.append(summary)
    return out


def print_kinds(rows: list[dict]) -> None:
    if not rows:
        return
    print(f"\n{'mode':<18}{'kind':<14}{'n':>4}{'holds':>8}{'abstains':>10}{'false abst.':>13}{'drafts lost':>13}")
    for r in rows:
        holds = f"{100 * r['holds']:.0f}%" if "holds" in r else "-"
        abst = f"{100 * r['abstained']:.0f}%" if "abstained" in r else "-"
        false = f"{100 * r['false_abstained']:.0f}%" if "false_abstained" in r else ""
        lost = f"{r['draft_replaced']} of {r['draft_holds']}" if "draft_replaced" in r else ""
        print(f"{r['mode']:<18}{r['kind']:<14}{r['n']:>4}{holds:>8}{abst:>10}{false:>13}{lost:>13}")
    print("(holds: the shown answer holds the reference, answerable kinds; abstains: unanswerable; "
          "drafts lost: right drafts the shown answer does not keep)")


def _overall(scores: dict[tuple[str, int], list[float]], mode: str) -> list[float]:
    """Per-question scores of categories 1-4, in the order the questions were asked."""
    return [v for cat in (1, 2, 3, 4) for v in scores.get((mode, cat), [])]


def tabulate(scores: dict[tuple[str, int], list[float]], modes: list[str]) -> list[dict]:
    """Mean score per mode and category, plus 'overall' over categories 1-4."""
    results = []
    for mode in modes:
        for cat in sorted(CATEGORIES):
            values = scores.get((mode, cat), [])
            if values:
                results.append({"mode": mode, "category": CATEGORIES[cat], "n": len(values),
                                "f1": sum(values) / len(values)})
        overall = _overall(scores, mode)
        if overall:
            results.append({"mode": mode, "category": "overall", "n": len(overall),
                            "f1": sum(overall) / len(overall)})
    return results


def compare_modes(scores: dict[tuple[str, int], list[float]], modes: list[str],
                  at_tokens: int | None = None) -> list[dict]:
    """Overall F1 differences of the target's mode pairs, each with its 95% interval.

    Every mode answered the same questions in the same order, so the lists pair up.
    """
    out = []
    for a, b in COMPARISONS:
        if a not in modes or b not in modes:
            continue
        first, second = _overall(scores, a), _overall(scores, b)
        if first:
            diff, low, high = paired_difference(first, second)
            out.append({"mode": a, "versus": b, "at_tokens": at_tokens, "n": len(first),
                        "difference": diff, "ci95": [low, high]})
    return out


def print_table(report: dict) -> None:
    modes = list(dict.fromkeys(r["mode"] for r in report["results"]))
    cats = list(dict.fromkeys(r["category"] for r in report["results"]))
    cell = {(r["mode"], r["category"]): r for r in report["results"]}
    print(f"{'mode':<18}" + "".join(f"{c:>13}" for c in cats))
    for m in modes:
        row = "".join(f"{cell[(m, c)]['f1']:>9.3f} ({cell[(m, c)]['n']:>2})" if (m, c) in cell else f"{'-':>13}"
                      for c in cats)
        print(f"{m:<18}{row}")
    print("(adversarial: share of answers that abstain; others: token F1; n in brackets)")
    cuts = report.get("results_at_tokens", {})
    if cuts:
        overall = overall_at_tokens(report)
        print(f"\noverall F1 of the same answers cut after k tokens (full: up to "
              f"{report['settings']['max_new_tokens']})")
        print(f"{'mode':<18}" + "".join(f"{'k=' + k:>9}" for k in cuts) + f"{'full':>9}")
        for m in modes:
            print(f"{m:<18}" + "".join(f"{overall[(m, k)]:>9.3f}" for k in cuts) + f"{cell[(m, 'overall')]['f1']:>9.3f}")
    for c in report.get("comparisons", []):
        low, high = c["ci95"]
        verdict = "above" if low > 0 else "below" if high < 0 else "no clear difference"
        cut = f" at {c['at_tokens']} tokens" if c.get("at_tokens") else ""
        print(f"{c['mode']} - {c['versus']}{cut}: {c['difference']:+.3f} overall "
              f"(95% interval {low:+.3f} to {high:+.3f}: {verdict})")
    print_checks(report.get("answer_checks", []))
    print_kinds(report.get("kinds", []))
