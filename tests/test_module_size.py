"""No module of the app or the engine is over 450 lines (issue 31): past that, a file holds more
than one job, and the next change to it starts by reading all of them. Split it along a seam
(a class, a widget, a step) into a module of its own, rather than squeezing lines."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LIMIT = 450


def test_no_module_is_over_the_limit():
    sizes = {path.relative_to(REPO).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
             for package in ("app", "locas_engine") for path in (REPO / package).rglob("*.py")}
    assert sizes, "no modules found"
    over = {name: lines for name, lines in sizes.items() if lines > LIMIT}
    assert over == {}, f"over {LIMIT} lines: {over}"
