"""`--self-test`: prove, headless and offline, that an installed or packaged app really works.

A packaged binary can build fine and still fail at run time (a module PyInstaller missed, a data
file left behind, a model that cannot be found). So the self-test walks the user's whole path
with small settings: it imports a bundled sample text, memorizes it (a few hundred tokens, rank 8,
chunk 64), and asks one question, printing one line per step with ✓ or ✗. It exits 0 only
when every check passed.

A tick means a check that could have failed: retrieval cites the passage that holds the answer,
memorizing lowered the sample's perplexity, the saved memory reloads to the same logits (to the
rounding of its fp16 file) and the same next tokens. A
135M-parameter model's answer cannot be checked honestly, so the answer is shown (marked "shown,
not checked"), never ticked.

It runs in a temporary data folder, so it never touches the user's library, and with network
access blocked (socket connections and name lookups raise), so a pass also proves that nothing
in the app reaches the network. The block is installed before transformers or huggingface_hub
are imported, because those read their offline switches and open sessions at import time.

Run it as ``locas --self-test``, ``locas-reader --self-test`` or ``python -m app.selftest``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

SAMPLE = "sample/aesop-fables.txt"
QUESTION = "Who won the race between the Hare and the Tortoise?"
ANSWER_PASSAGE = "the Tortoise had reached the goal"  # the sentence that answers QUESTION
RELOAD_TOLERANCE = 1e-3  # logits; fp16 rounding of the saved memory moves them by ~5e-5
BLOCK_ENV = "LOCAS_BLOCK_NETWORK"


class NetworkBlocked(OSError):
    """Raised by every network connection or name lookup while the network guard is on."""


def block_network() -> None:
    """Make every internet socket connection and DNS lookup in this process raise NetworkBlocked.

    Local IPC (AF_UNIX sockets, e.g. to a display server) stays allowed: it never leaves the
    machine. Patching the socket module covers urllib, requests, httpx and asyncio alike, since
    they all end in ``socket.socket.connect`` or ``socket.getaddrinfo``.
    """
    if getattr(socket.socket.connect, "_locas_blocked", False):
        return

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise NetworkBlocked("Network access is blocked (LOCAS_BLOCK_NETWORK=1): Locas runs offline.")

    def guarded(original: Callable[..., Any]) -> Callable[..., Any]:
        def method(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
            if getattr(socket, "AF_UNIX", None) is not None and self.family == socket.AF_UNIX:
                return original(self, *args, **kwargs)
            return refuse()

        method._locas_blocked = True  # type: ignore[attr-defined]
        return method

    socket.socket.connect = guarded(socket.socket.connect)  # type: ignore[method-assign]
    socket.socket.connect_ex = guarded(socket.socket.connect_ex)  # type: ignore[method-assign]
    socket.getaddrinfo = refuse  # type: ignore[assignment]
    socket.gethostbyname = refuse  # type: ignore[assignment]
    socket.create_connection = refuse  # type: ignore[assignment]


def network_is_blocked() -> bool:
    """True when a TCP connection attempt fails before any packet could leave (the guard, or a
    sandbox without network such as ``unshare -n``)."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    probe.settimeout(2)
    try:
        probe.connect(("1.1.1.1", 443))
    except NetworkBlocked:
        return True
    except OSError as exc:  # e.g. "Network is unreachable" in a namespace without network
        return "unreachable" in str(exc).lower() or getattr(exc, "errno", None) == 101
    else:
        return False
    finally:
        probe.close()


def go_offline() -> None:
    """Install the network guard and the Hugging Face offline switches (before they are read)."""
    os.environ[BLOCK_ENV] = "1"
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # keep the ✓/✗ lines readable
    os.environ.setdefault("TQDM_DISABLE", "1")
    block_network()


def sample_path() -> Path:
    """The bundled sample text (found like the icons: bundle, package data, then source tree)."""
    roots = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "assets")
    here = Path(__file__).resolve().parent
    roots += [here / "assets", here.parent / "assets"]
    for root in roots:
        if (root / SAMPLE).is_file():
            return root / SAMPLE
    raise FileNotFoundError(f"The sample text {SAMPLE} is not in any of {', '.join(map(str, roots))}.")


class Report:
    """Runs the steps in order, prints ✓/✗ per step and skips the rest after a failure."""

    def __init__(self, out: Any, verbose: bool = False) -> None:
        self.out = out
        self.verbose = verbose
        self.failed = False

    def say(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def step(self, title: str, action: Callable[[], str]) -> None:
        self._run(title, action, mark="✓", label=title, traceback_when_verbose=True)

    def show(self, title: str, action: Callable[[], str]) -> None:
        """A step whose result is shown, not checked: it fails only if it cannot run at all."""
        self._run(title, action, mark="·", label=f"{title} (shown, not checked)",
                  traceback_when_verbose=False)

    def _run(self, title: str, action: Callable[[], str], mark: str, label: str,
             traceback_when_verbose: bool) -> None:
        if self.failed:
            self.say(f"  - {title}: skipped (an earlier step failed)")
            return
        started = time.perf_counter()
        try:
            detail = action()
        except Exception as exc:  # a self-test reports every failure, whatever its type
            self.failed = True
            self.say(f"  ✗ {title}: {type(exc).__name__}: {exc}")
            if self.verbose and traceback_when_verbose:
                traceback.print_exc(file=self.out)
            return
        self.say(f"  {mark} {label}: {detail} ({time.perf_counter() - started:.1f} s)")


def sample_perplexity(session: Any, doc_id: int, memories: Sequence[str]) -> float:
    """The sample's perplexity with exactly ``memories`` on (chunks as the memorizer scores them)."""
    import math

    import torch

    from app.memorize.job import document_token_ids
    from locas_engine.memorizer import chunk_loss, chunk_spans

    backbone = session.backbone()
    ids = torch.tensor(document_token_ids(session, doc_id), device=backbone.device)
    training = session.settings.training
    total, count = 0.0, 0
    with session.only_memories(memories), torch.no_grad():
        for span in chunk_spans(ids.numel(), training.chunk, training.context):
            loss, n = chunk_loss(backbone.model, ids, span)
            total += float(loss) * n
            count += n
    return math.exp(total / count)


def reload_difference(session: Any, name: str, path: Path) -> tuple[float, bool]:
    """Largest logit difference between the memory in use and a copy loaded from its file, and
    whether both predict the same next token everywhere. The file stores fp16 (store.py), so
    the logits agree to rounding, not to the bit: RELOAD_TOLERANCE is far above that rounding
    and far below what a wrong, stale or half-written file changes."""
    import torch

    from locas_engine import detach_memory, load_memory

    backbone = session.backbone()
    probe = backbone.tokenizer(QUESTION, return_tensors="pt")["input_ids"].to(backbone.device)
    with torch.no_grad(), session.only_memories([name]):
        live = backbone.model(input_ids=probe).logits
    copy = load_memory(backbone, path, name=f"{name} (reloaded)")
    try:
        with torch.no_grad(), session.only_memories([copy.name]):
            reloaded = backbone.model(input_ids=probe).logits
    finally:
        detach_memory(backbone, copy)
    same = bool(torch.equal(live.argmax(-1), reloaded.argmax(-1)))
    return float((live - reloaded).abs().max()), same


def _output_stream() -> Any:
    """stdout that never crashes on ✓ (a cp1252 console) nor when absent (a windowed .exe)."""
    stream = sys.stdout
    if stream is None:
        return open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - lives for the process
    try:
        stream.reconfigure(errors="replace")
    except (AttributeError, ValueError):
        pass
    return stream


def run_self_test(keep: bool = False, verbose: bool = False, out: Any = None) -> int:
    """Run every step in a temporary data folder; 0 when all passed, 1 otherwise."""
    out = out or _output_stream()
    go_offline()
    report = Report(out, verbose)
    home = Path(tempfile.mkdtemp(prefix="locas-selftest-"))
    previous_home = os.environ.get("LOCAS_HOME")
    os.environ["LOCAS_HOME"] = str(home)
    started = time.perf_counter()
    frozen = "packaged" if getattr(sys, "frozen", False) else "from source"
    report.say(f"Locas Reader self-test ({frozen}, data folder {home})")
    state: dict[str, Any] = {}

    def check_network() -> str:
        if not network_is_blocked():
            raise RuntimeError("A test connection to 1.1.1.1:443 was not refused.")
        return "connections and name lookups are refused"

    def find_model() -> str:
        from locas_engine.default_model import default_gguf_path

        path = default_gguf_path()
        return f"{path.name}, {path.stat().st_size / 1e6:.0f} MB"

    def import_sample() -> str:
        from app.importers import import_file
        from app.library import Library
        from app.session import Session
        from app.settings import Settings

        # fp32 even where `precision: auto` would pick bf16: the reload check compares logits to
        # the rounding of the memory's fp16 file (~5e-5), which bf16 logits (steps of 0.125 at a
        # logit of 20) would hide.
        settings = Settings.of(rank=8, chunk=64, context=64, steps=1, lr=4e-3, output_scale=1 / 8,
                               checkpoint_every=1000, passages=2, max_new_tokens=24, device="cpu",
                               precision="fp32")
        session = Session(library=Library(), settings=settings)
        state["session"] = session
        state["doc"] = session.library.add_document(import_file(sample_path()))
        info = session.library.get_document(state["doc"])
        return f"'{info.title}', {len(session.library.sections(state['doc']))} sections"

    def load_model() -> str:
        backbone = state["session"].backbone()
        return f"{backbone.name} on {backbone.device}, {backbone.num_layers} layers"

    def retrieve() -> str:
        hits = state["session"].library.search(QUESTION, limit=2)
        if not hits:
            raise RuntimeError("Searching the sample for the question found no passage.")
        if ANSWER_PASSAGE not in " ".join(hits[0].text.split()):
            raise RuntimeError(f"The top passage ('{hits[0].section_title}') is not the one that "
                               f"holds the answer ('{ANSWER_PASSAGE}').")
        return f"'{hits[0].section_title}' holds '{ANSWER_PASSAGE}'"

    def memorize() -> str:
        from app.memorize.job import MemorizeRequest, run_memorize
        from app.memorize.paths import TENSORS, memory_file

        session = state["session"]
        state["ppl_before"] = sample_perplexity(session, state["doc"], [])
        outcome = run_memorize(session, MemorizeRequest(document_ids=[state["doc"]], memory="self-test"))
        if not outcome.completed or outcome.tokens_done < 100:
            raise RuntimeError(f"Only {outcome.tokens_done} of {outcome.tokens_total} tokens were memorized.")
        if not memory_file(outcome.path, TENSORS).is_file():
            raise RuntimeError(f"The memory file {memory_file(outcome.path, TENSORS)} was not written.")
        state["path"] = outcome.path
        return f"{outcome.tokens_done} tokens"

    def perplexity_lowered() -> str:
        before = state["ppl_before"]
        after = sample_perplexity(state["session"], state["doc"], ["self-test"])
        if not after < 0.99 * before:
            raise RuntimeError(f"The sample's perplexity did not drop: {before:.2f} without the "
                               f"memory, {after:.2f} with it.")
        return f"{before:.2f} without the memory, {after:.2f} with it"

    def reloads_identically() -> str:
        diff, same_tokens = reload_difference(state["session"], "self-test", state["path"])
        if not diff <= RELOAD_TOLERANCE or not same_tokens:
            raise RuntimeError(f"The reloaded memory's logits differ by up to {diff:.3g} "
                               f"(allowed {RELOAD_TOLERANCE:g}); same next tokens: {same_tokens}.")
        return f"same next tokens, logits within {diff:.1g} (the file keeps fp16)"

    def answer() -> str:
        from app.answer.pipeline import AnswerRequest, run_answer

        result = run_answer(state["session"], AnswerRequest(
            question=QUESTION, memories=["self-test"], passages=2, max_new_tokens=24))
        if not result.text:
            raise RuntimeError("The model produced an empty answer.")
        return f"{result.text[:70]!r}"

    try:
        report.step("network blocked", check_network)
        report.step("bundled model found", find_model)
        report.step("sample imported", import_sample)
        report.step(f"retrieval cites the passage holding the answer ({QUESTION})", retrieve)
        report.step("model loaded", load_model)
        report.step("sample memorized (rank 8, chunk 64)", memorize)
        report.step("memorizing lowered the sample's perplexity", perplexity_lowered)
        report.step("the saved memory reloads to the same logits", reloads_identically)
        report.show(f"answer to '{QUESTION}'", answer)
    finally:
        session = state.get("session")
        if session is not None:
            session.close_model()
            session.library.close()
        if previous_home is None:
            os.environ.pop("LOCAS_HOME", None)
        else:
            os.environ["LOCAS_HOME"] = previous_home
        if keep:
            report.say(f"Kept the data folder {home}.")
        else:
            shutil.rmtree(home, ignore_errors=True)
    elapsed = time.perf_counter() - started
    if report.failed:
        report.say(f"Self-test FAILED after {elapsed:.0f} s.")
        return 1
    report.say(f"Self-test passed in {elapsed:.0f} s.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="locas --self-test",
        description="Import a bundled sample, memorize it and answer a question, offline and "
                    "in a temporary data folder; exit 0 only when every step works.",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    parser.add_argument("--verbose", action="store_true", help="print the traceback of a failure")
    args = parser.parse_args(argv)
    return run_self_test(keep=args.keep, verbose=args.verbose)


if __name__ == "__main__":
    sys.exit(main())
