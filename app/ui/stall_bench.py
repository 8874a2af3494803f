"""`locas bench gui-stall`: does the window ever stop reacting, in any state a reader puts it in?

Runs the real main window offscreen on the default model and walks it through the states of
issue 30, one after the other, as a reader would:

1. **idle**: the model loaded, nothing asked;
2. **answering**: a question to the plain model with passages of the book, the engine idle;
3. **memorizing**: the book memorized (its first chunk, then ``--seconds`` more);
4. **answering while memorizing**: a question asked meanwhile (served between two chunks);
5. **starting with a resume**: the memorization is stopped and marked as a crash leaves it
   (interrupted); the app starts again (what it does before its window shows,
   `app.ui.main.prepare_window_start`, is timed apart), its window offers to resume, the
   reader says yes, and it runs until its first chunk is memorized;
6. **listing models**: Settings ▸ Models on this computer…, with two GGUF files not described
   before (a fresh data folder: nothing cached), until the list is complete.

A 10 ms timer records the gap between its ticks; a gap much longer than 10 ms means the GUI
thread could not repaint or react for that long. Target: the longest gap of every state under
100 ms. ``--trace`` also notes where every thread is every 5 ms and prints, for the longest gaps of
each state, what the threads did while the gap lasted (what held the GUI thread, or the GIL),
for finding the cause of a stall.

    locas bench gui-stall --file BOOK [--seconds 20] [--json out.json] [--trace]

Prints a table per state (plus the model load, import, stopping and closing between them) and
writes JSON; the machine's load average is in the report, since a loaded machine stalls more.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

from locas_engine.bench import bench_parser

TICK_MS = 10
TARGET_MS = 100.0
TRACE_MS = 60.0
STATES = ("idle", "answering", "memorizing", "answering while memorizing", "starting with a resume",
          "listing models")
MEMORY = "stall-benchmark"
QUESTION = "Who is the main character of the story?"


class StallMeter:
    """Records the gap between ticks of a 10 ms timer, attributed to the current phase; with
    ``trace``, a watchdog thread notes every 5 ms where each thread is, and each gap over
    TRACE_MS keeps the notes taken while it lasted (see `timeline`)."""

    def __init__(self, trace: bool = False) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.phase = "startup"
        self.gaps: dict[str, list[float]] = {}
        self.samples: dict[str, list[tuple[float, str]]] = {}  # phase -> (gap, its timeline)
        self.own: dict[str, list[float]] = {}  # the gaps less the GUI thread's wait for a CPU
        self.long: list[dict] = []  # each gap over TRACE_MS: when it ended, where its time went
        self._last = time.perf_counter()
        self._ran, self._waited = _schedstat_ms()
        self._cpu = _process_cpu_ms()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start(TICK_MS)
        self._gui = threading.get_ident()
        self._stop = threading.Event()
        self._notes: deque[tuple[float, dict[str, str]]] = deque(maxlen=4000)  # (when, thread -> where)
        self._pending: list[tuple[str, float, float, float]] = []  # gaps whose notes are still to keep
        self._trace = trace
        if trace:
            threading.Thread(target=self._watch, name="stall-watchdog", daemon=True).start()

    def _tick(self) -> None:
        now = time.perf_counter()
        ran, waited = _schedstat_ms()
        cpu = _process_cpu_ms()
        gap = (now - self._last) * 1000
        # What the app itself held the GUI thread up for: the gap less the time the OS kept it
        # waiting for a CPU (a loaded machine's share, not the app's).
        own = max(0.0, gap - (waited - self._waited))
        self.gaps.setdefault(self.phase, []).append(gap)
        self.own.setdefault(self.phase, []).append(own)
        if gap > TRACE_MS:
            # Where the gap went: the GUI thread running, waiting for a CPU, or asleep (the GIL,
            # a lock, the disk); and the CPU time the whole process used meanwhile.
            self.long.append({"phase": self.phase, "ended": round(time.time(), 3), "gap_ms": round(gap, 1),
                              "gui_ran_ms": round(ran - self._ran, 1),
                              "gui_waited_for_cpu_ms": round(waited - self._waited, 1),
                              "process_cpu_ms": round(cpu - self._cpu, 1)})
            if self._trace:
                self._pending.append((self.phase, self._last, now, gap))
        self._last, self._ran, self._waited, self._cpu = now, ran, waited, cpu

    def set_phase(self, phase: str) -> None:
        self._tick()  # close the running gap under the old phase
        self.phase = phase
        print(f"[{time.strftime('%H:%M:%S')}] {phase}", flush=True)

    def stop(self) -> None:
        self._stop.set()
        self.timer.stop()

    def _watch(self) -> None:
        """Every 5 ms (when it gets the GIL): where each thread is. A stretch with no note means
        no thread let go of the GIL: the first note after it shows the call that held it."""
        while not self._stop.wait(0.005):
            now = time.perf_counter()
            self._notes.append((now, _places(self._gui)))
            while self._pending and self._pending[0][2] < now - 0.05:  # 50 ms of notes after it
                phase, begin, end, gap = self._pending.pop(0)
                notes = [n for n in self._notes if begin - 0.01 <= n[0] <= end + 0.05]
                self.samples.setdefault(phase, []).append((round(gap, 1), timeline(notes, begin)))

    def summary(self) -> dict[str, dict[str, float]]:
        out = {}
        for phase, gaps in self.gaps.items():
            ordered = sorted(gaps)
            out[phase] = {
                "ticks": len(gaps),
                "seconds": round(sum(gaps) / 1000, 1),
                "mean_ms": round(statistics.fmean(gaps), 1),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 1),
                "max_ms": round(ordered[-1], 1),
                "over_target": sum(g > TARGET_MS for g in gaps),
                "max_own_ms": round(max(self.own.get(phase, [0.0])), 1),
            }
        return out


def _schedstat_ms() -> tuple[float, float]:
    """How long the calling thread has run on a CPU and waited for one, in ms (Linux:
    /proc/thread-self/schedstat; 0 elsewhere, where every gap counts as the app's)."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            ran, waited = f.read().split()[:2]
        return int(ran) / 1e6, int(waited) / 1e6
    except (OSError, ValueError):
        return 0.0, 0.0


def _process_cpu_ms() -> float:
    """CPU time used by the whole process (all its threads), in ms."""
    t = os.times()
    return (t.user + t.system) * 1000


def _places(gui: int) -> dict[str, str]:
    """Each other thread's place. Only strings leave this function: a frame object kept after
    it (in a variable of the watchdog's loop) would keep that frame's locals alive, such as a
    paint event's QPainter, which Qt must see destroyed when the event returns."""
    names = {t.ident: t.name for t in threading.enumerate()}
    me = threading.get_ident()
    return {names.get(ident, str(ident)) + (" (GUI)" if ident == gui else ""): _where(frame)
            for ident, frame in sys._current_frames().items() if ident != me}


def _where(frame, depth: int = 4) -> str:
    """A thread's innermost frames, innermost first: "function (file:line) < caller (...)"."""
    parts = []
    while frame is not None and len(parts) < depth:
        code = frame.f_code
        parts.append(f"{code.co_name} ({Path(code.co_filename).name}:{frame.f_lineno})")
        frame = frame.f_back
    return " < ".join(parts)


def timeline(notes: list[tuple[float, dict[str, str]]], begin: float) -> str:
    """The watchdog's notes over one gap, in ms from its start: each thread's place when it
    changed, and the stretches with no note (the GIL held by one call, or no CPU)."""
    lines, seen, previous = [], {}, None
    for when, where in notes:
        if previous is not None and when - previous > 0.015:
            lines.append(f"  {'':>7}   ... no note for {(when - previous) * 1000:.0f} ms")
        previous = when
        for name, place in where.items():
            if seen.get(name) != place:
                seen[name] = place
                lines.append(f"  {(when - begin) * 1000:+7.0f} ms {name}: {place}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = bench_parser("gui-stall", __doc__)
    parser.add_argument("--file", type=Path, required=True, help="document to memorize")
    parser.add_argument("--seconds", type=float, default=20.0,
                        help="how long to go on memorizing after the first chunk, before asking")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds of the idle state")
    parser.add_argument("--answer-tokens", type=int, default=40, help="answer length (tokens)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model-cache", type=Path, default=None,
                        help="folder with the dequantized default model (default: the user's data folder)")
    parser.add_argument("--trace", action="store_true", help="sample the threads' stacks during stalls")
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    return parser


def _fresh_home(cache: Path) -> Path:
    """A data folder of its own (the model cache linked in) and a home with two GGUF files in
    LM Studio's folders, never described before, for the model list."""
    from app.models.inspect import CACHE_FILE

    home = Path(tempfile.mkdtemp(prefix="locas-stall-"))
    models = home / "models"
    models.mkdir()
    for entry in Path(cache).resolve().iterdir():  # the model itself, not the models described
        if entry.name != CACHE_FILE:
            (models / entry.name).symlink_to(entry, target_is_directory=entry.is_dir())
    from locas_engine.default_model import default_gguf_path

    gguf = default_gguf_path()
    search_home = home / "search-home"
    for publisher in ("one", "two"):
        folder = search_home / ".lmstudio" / "models" / publisher / "smollm2"
        folder.mkdir(parents=True)
        (folder / f"smollm2-{publisher}.gguf").symlink_to(gguf)
    os.environ["LOCAS_MODEL_SEARCH_HOME"] = str(search_home)
    os.environ["LOCAS_HOME"] = str(home)
    return home


def run(args: argparse.Namespace) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.paths import model_cache_dir

    _fresh_home(args.model_cache or model_cache_dir())  # the cache: before LOCAS_HOME moves

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    from app.settings import Settings, load_settings, save_settings
    from app.ui.main import create_app, prepare_window_start

    save_settings(Settings.of(device=args.device, max_new_tokens=args.answer_tokens))
    app = create_app([])
    # No modal boxes in a benchmark: "Yes" to resuming and to the close confirmation; warnings printed.
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    QMessageBox.warning = staticmethod(lambda _p, title, text, *a, **k: print(f"[warning] {title}: {text}"))

    from app.library import Library
    from app.ui.controller import AppController  # imported again before each window: free
    from app.ui.main_window import MainWindow

    meter = StallMeter(trace=args.trace)
    started = time.perf_counter()
    seen: dict = {"events": [], "answers": [], "imported": None, "model": None, "device": None}

    def open_window(offer_resume: bool) -> MainWindow:
        controller = AppController()
        controller.model_loaded.connect(lambda name, device: seen.update(model=name, device=device))
        controller.memorize_event.connect(seen["events"].append)
        controller.document_imported.connect(lambda row: seen.update(imported=row))
        controller.bridge.answer_finished.connect(lambda _t, answer: seen["answers"].append(answer))
        controller.bridge.answer_failed.connect(lambda _t, msg: seen["answers"].append(msg))
        controller.model_failed.connect(lambda msg: print(f"[model failed] {msg}"))
        controller.import_failed.connect(lambda msg: print(f"[import failed] {msg}"))
        window = MainWindow(controller, preload_model=True, offer_resume=offer_resume)
        window.resize(1200, 760)
        window.show()
        return window

    def ask(window: MainWindow) -> int:
        window.question_panel.select_memory(None)  # the plain model, with passages of the book
        window.question_panel.question.setPlainText(QUESTION)
        window.question_panel.ask_button.click()
        return len(seen["answers"])

    def phase_events(phase: str) -> list:
        return [e for e in seen["events"] if e.phase == phase]

    def start() -> None:
        """What the app does before its window shows (no window yet: not a state)."""
        meter.set_phase("before the window")
        prepare_window_start(load_settings())

    def script() -> Iterator[Callable[[], bool]]:
        """The reader's walk; each step yields what to wait for."""
        start()
        meter.set_phase("model load")
        window = open_window(offer_resume=False)
        yield lambda: seen["model"] is not None
        meter.set_phase("idle")
        until = time.perf_counter() + args.idle
        yield lambda: time.perf_counter() > until

        meter.set_phase("import")
        window.controller.import_files([str(args.file)])
        yield lambda: seen["imported"] is not None
        meter.set_phase("answering")
        asked = ask(window)
        yield lambda: len(seen["answers"]) > asked

        meter.set_phase("memorizing")
        dialog = window.memorize_documents([seen["imported"].id])
        dialog.new_name.setText(MEMORY)
        dialog.start_button.click()
        yield lambda: bool(phase_events("memorizing"))
        until = time.perf_counter() + args.seconds
        yield lambda: time.perf_counter() > until
        meter.set_phase("answering while memorizing")
        asked = ask(window)
        yield lambda: len(seen["answers"]) > asked

        meter.set_phase("stopping")
        window.controller.cancel(MEMORY)
        yield lambda: bool(phase_events("cancelled") or phase_events("done"))
        meter.set_phase("close")
        window.close()
        library = Library()  # as a killed process leaves it: the job's row still says it runs
        library.update_memory(MEMORY, status="interrupted")
        library.close()

        start()  # the app started again
        meter.set_phase("starting with a resume")
        seen["events"].clear()
        window = open_window(offer_resume=True)  # asks to resume; the benchmark answers yes
        yield lambda: bool(phase_events("memorizing"))

        meter.set_phase("stopping")
        window.controller.cancel(MEMORY)
        yield lambda: bool(phase_events("cancelled") or phase_events("done"))

        meter.set_phase("listing models")
        settings = window.open_settings()
        models = settings.open_model_manager()
        yield lambda: not models._searching
        seen["models_listed"] = len(models.models)
        models.reject()
        settings.reject()

        meter.set_phase("close")
        window.close()

    steps = script()
    waiting: list[Callable[[], bool]] = [next(steps)]

    def advance() -> None:
        try:
            while waiting[0]():
                waiting[0] = next(steps)
        except StopIteration:
            driver.stop()
            meter.stop()
            app.quit()

    driver = QTimer()
    driver.timeout.connect(advance)
    driver.start(50)
    app.exec()

    summary = meter.summary()
    states = {s: summary.get(s, {}).get("max_ms") for s in STATES}
    own = {s: summary.get(s, {}).get("max_own_ms") for s in STATES}
    missing = [s for s, v in states.items() if v is None]
    worst = max((v for v in states.values() if v is not None), default=float("nan"))
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    result = {
        "bench": "gui-stall", "target_ms": TARGET_MS, "tick_ms": TICK_MS,
        "longest_stall_ms": worst, "pass": not missing and worst < TARGET_MS, "states": states,
        "states_less_cpu_wait": own, "longest_less_cpu_wait_ms": max((v for v in own.values() if v is not None),
                                                                      default=float("nan")),
        "missing_states": missing, "model": seen["model"], "device": seen["device"],
        "document": getattr(seen["imported"], "title", None), "models_listed": seen.get("models_listed"),
        "wall_seconds": round(time.perf_counter() - started, 1), "load_average": load,
        "phases": summary,
        "stall_samples": {p: sorted(v, reverse=True)[:3] for p, v in meter.samples.items()},
        "long_gaps": meter.long,
    }
    print(f"\nGUI event-loop stalls ({TICK_MS} ms timer; target: longest < {TARGET_MS:.0f} ms in every state)")
    print(f"model {seen['model']} on {seen['device']}; document {result['document']!r}; "
          f"load average {', '.join(f'{x:.1f}' for x in load) if load else 'unknown'}")
    header = (f"{'phase':28} {'seconds':>8} {'ticks':>7} {'mean ms':>8} {'p99 ms':>8} {'max ms':>8} {'>100ms':>7}"
              f" {'max less CPU wait':>18}")
    print(header)
    print("-" * len(header))
    for phase, s in summary.items():
        mark = " *" if phase in STATES else ""
        print(f"{phase + mark:28} {s['seconds']:>8} {s['ticks']:>7} {s['mean_ms']:>8} {s['p99_ms']:>8} "
              f"{s['max_ms']:>8} {s['over_target']:>7} {s['max_own_ms']:>18}")
    print(f"\n* the states of issue 30; longest stall among them: {worst:.1f} ms -> "
          f"{'PASS' if result['pass'] else 'FAIL'}" + (f" (not reached: {', '.join(missing)})" if missing else ""))
    print(f"  less the time the OS kept the GUI thread waiting for a CPU (machine load): "
          f"{result['longest_less_cpu_wait_ms']:.1f} ms")
    if args.trace:
        print(f"\nGaps over {TRACE_MS:.0f} ms: the GUI thread running / waiting for a CPU / asleep (the GIL, a lock, "
              "the disk); the CPU time of the whole process meanwhile")
        for g in meter.long:
            asleep = g["gap_ms"] - g["gui_ran_ms"] - g["gui_waited_for_cpu_ms"]
            print(f"  {g['phase']:28} {g['gap_ms']:7.1f} ms: ran {g['gui_ran_ms']:6.1f}, waited "
                  f"{g['gui_waited_for_cpu_ms']:6.1f}, asleep {asleep:6.1f}; process CPU {g['process_cpu_ms']:6.1f} ms")
        for phase, samples in result["stall_samples"].items():
            for gap, notes in samples:
                print(f"\n=== {phase}: a stall of {gap} ms; where the threads were (ms from its start):\n{notes}")
    return result
