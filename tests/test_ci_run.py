"""`.ci/run` runs the README's test command, and refuses to run when the two differ."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def readme_test_command(readme: str) -> str:
    after = readme[readme.index("\nRun the tests ("):]
    return after.split("```bash\n", 1)[1].split("\n", 1)[0]


def test_ci_runs_the_readme_test_command():
    script = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    written = re.search(r'^command="(.*)"$', script, re.MULTILINE).group(1)
    assert written == readme_test_command((REPO / "README.md").read_text(encoding="utf-8"))
    assert 'bash -c "$command"' in script


def test_ci_stops_when_the_readme_command_changed(tmp_path):
    (tmp_path / ".ci").mkdir()
    shutil.copy(REPO / ".ci" / "run", tmp_path / ".ci" / "run")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (tmp_path / "README.md").write_text(readme.replace("python3 -m pytest -q\n", "python3 -m pytest -q -x\n", 1))
    result = subprocess.run(["bash", str(tmp_path / ".ci" / "run")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "is not the one this script runs" in result.stderr
