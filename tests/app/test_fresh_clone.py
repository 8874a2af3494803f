"""A fresh clone without ../shared: the tests that need it skip, and the summary says so plainly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_summary_says_when_shared_data_is_missing(tmp_path):
    env = {**os.environ, "LOCAS_SHARED_DATA": str(tmp_path / "nowhere"), "QT_QPA_PLATFORM": "offscreen"}
    env.pop("LOCAS_HOME", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "tests/app/test_cli.py::test_import_list_search_remove",
         "tests/app/test_search_text.py::test_phrase_search_on_a_real_book"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert f"Shared test data not found at {tmp_path / 'nowhere'}: 2 test(s)" in out, out
    assert "2 skipped" in out


def test_readme_examples_use_files_a_clone_has():
    """Every path the README's command-line examples import exists in the clone."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "../shared" not in readme.split("## Using it")[1].split("### As a library")[0]
    assert "locas import assets/sample/aesop-fables.txt" in readme
    assert (REPO / "assets" / "sample" / "aesop-fables.txt").is_file()
