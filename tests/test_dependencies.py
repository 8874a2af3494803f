"""Every import is declared in pyproject.toml, and every declared package is used (deptry).

The README's test command runs this (and `.ci/run`, which runs that command in a brand-new
virtual environment, runs deptry once more after it), so a module that only the developers'
machines happen to have fails the run instead of a stranger's first `pytest` at collection. The exceptions, and why each exists, are
written beside `[tool.deptry]` in pyproject.toml.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# A developer's older environment may lack it (`pip install -e '.[test]'` adds it); .ci/run, in a
# brand-new environment, runs deptry itself as well, so a skip here cannot hide the check there.
pytest.importorskip("deptry", reason="deptry is not installed: pip install -c constraints.txt -e '.[test]'")

REPO = Path(__file__).resolve().parents[1]


def _deptry(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deptry", ".", "--no-ansi", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_every_import_is_declared_and_every_dependency_used():
    result = _deptry()
    assert result.returncode == 0, (
        "deptry found undeclared, unused or only-transitive dependencies; declare them in "
        "pyproject.toml (or, for a real need it cannot see, add an ignore there with the "
        "reason):\n" + result.stdout + result.stderr)


def test_the_check_catches_an_import_left_out(tmp_path):
    """The configuration is not so loose that it passes anything: without `hypothesis` in the
    test extra (the bug a fresh clone hit), the check fails and names it."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert '"hypothesis' in pyproject
    stripped = "\n".join(line for line in pyproject.splitlines() if '"hypothesis' not in line)
    (tmp_path / "pyproject.toml").write_text(stripped, encoding="utf-8")
    result = _deptry("--config", str(tmp_path / "pyproject.toml"))
    assert result.returncode != 0
    assert "'hypothesis'" in result.stdout + result.stderr
