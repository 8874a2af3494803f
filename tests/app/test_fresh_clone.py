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


def readme_commands() -> list[str]:
    """The README's command-line examples, in order, without their comments."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = readme.split("### The command line", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.split(" #", 1)[0].strip() for line in block.splitlines() if line.strip()]


def test_every_readme_example_is_a_command_as_written():
    """Each line runs as written (they were run in order on a fresh clone, issue 29): no
    "show|rename" alternatives or "[DEST]" placeholders, and each parses as a locas command.
    The sample's sections exist for every --sections the examples name."""
    import shlex

    from app.cli import build_parser
    from app.importers import import_file

    parser = build_parser()
    sections = len(import_file(REPO / "assets" / "sample" / "aesop-fables.txt").sections)
    commands = readme_commands()
    assert commands[0] == "locas import assets/sample/aesop-fables.txt" and len(commands) > 15
    for command in commands:
        words = shlex.split(command)
        assert words[0] == "locas" and "|" not in command and "[" not in command, command
        if words[1:2] in (["--self-test"], ["bench"]):
            continue  # handled before the parser (app.cli.main)
        parser.parse_args(words[1:])
        if "--sections" in words:
            last = int(words[words.index("--sections") + 1].split("-")[-1])
            assert last <= sections, command
