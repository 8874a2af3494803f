"""`locas bench gui-stall`: how long does the GUI event loop stall while the app memorizes a book?

Runs the real main window offscreen, loads the default model, imports a real document,
memorizes it on the CPU for a while (asking a question midway, as a person might), then stops.
A 10 ms QTimer records the gap between consecutive ticks; a gap much longer than 10 ms means the
GUI thread could not repaint or react for that long. Target: longest stall < 50 ms.

    locas bench gui-stall --file BOOK [--seconds 60] [--json out.json]

Prints a table per phase (one phase per state the window goes through: `StallMeter.set_phase`
names it) and writes JSON. Offscreen unless QT_QPA_PLATFORM says otherwise.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

TICK_MS = 10
TARGET_MS = 50.0


class StallMeter:
    """Records the gap between ticks of a 10 ms timer, attributed to the current phase."""

    def __init__(self) -> None:
        from PySide6.QtCore import Qt, QTimer

        self.phase = "startup"
        self.gaps: dict[str, list[float]] = {}
        self.worst: dict[str, float] = {}
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start(TICK_MS)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.setdefault(self.phase, []).append((now - self._last) * 1000)
        self._last = now

    def set_phase(self, phase: str) -> None:
        self._tick()  # close the running gap under the old phase
        self.phase = phase

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
                "over_50ms": sum(g > TARGET_MS for g in gaps),
            }
        return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="locas bench gui-stall", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, required=True, help="document to memorize")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to memorize before stopping")
    parser.add_argument("--ask-after", type=float, default=20.0, help="ask a question after this many seconds")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--model-cache", type=Path, default=None,
                        help="folder with the dequantized default model (default: the user's data folder)")
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    return parser


def run(args: argparse.Namespace) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from app.paths import model_cache_dir

    cache = args.model_cache or model_cache_dir()  # before LOCAS_HOME points elsewhere
    home = Path(tempfile.mkdtemp(prefix="locas-stall-"))
    (home / "models").symlink_to(Path(cache).resolve(), target_is_directory=True)
    os.environ["LOCAS_HOME"] = str(home)

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QMessageBox

    from app.settings import Settings, save_settings
    from app.ui.main import create_app

    settings = Settings(device=args.device)  # the default model, default memorization settings
    save_settings(settings)
    app = create_app([])
    # No modal boxes in a benchmark: answer "Yes" to the close confirmation, log warnings.
    QMessageBox.question = staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    QMessageBox.warning = staticmethod(lambda _p, title, text, *a, **k: print(f"[warning] {title}: {text}"))

    from app.ui.controller import AppController
    from app.ui.main_window import MainWindow

    meter = StallMeter()
    started = time.perf_counter()
    controller = AppController()
    window = MainWindow(controller, preload_model=True, offer_resume=False)
    window.resize(1200, 760)
    window.show()
    meter.set_phase("model load")
    state: dict = {"tokens": 0, "total": 0, "ppl": None, "answer_tokens": 0}

    def on_model(name: str, device: str) -> None:
        state["model"], state["device"] = name, device
        meter.set_phase("import")
        controller.import_files([str(args.file)])

    def on_imported(row) -> None:
        state["document"] = row.title
        meter.set_phase("memorize (tokenize, first chunk)")
        dialog = window.memorize_documents([row.id])
        dialog.new_name.setText("stall-benchmark")
        dialog.start_button.click()
        state["dialog"] = dialog

    def on_event(event) -> None:
        if event.phase == "memorizing":
            if state["tokens"] == 0:
                meter.set_phase("memorize")
                state["memorize_started"] = time.perf_counter()
                QTimer.singleShot(int(args.ask_after * 1000), ask)
                QTimer.singleShot(int(args.seconds * 1000), stop)
            state["tokens"], state["total"], state["ppl"] = event.tokens_done, event.tokens_total, event.ppl
            state["tokens_per_s"] = event.tokens_per_s
        elif event.phase in ("cancelled", "done"):
            meter.set_phase("stopping")
            state["memorize_seconds"] = time.perf_counter() - state.get("memorize_started", time.perf_counter())
            QTimer.singleShot(200, finish)

    def ask() -> None:
        meter.set_phase("memorize + answer streaming")
        window.question_panel.question.setPlainText("Who is the main character of the story?")
        window.question_panel.ask_button.click()

    def on_answer_token(_ticket, _piece) -> None:
        state["answer_tokens"] += 1

    def on_answer_done(_ticket, _answer) -> None:
        if meter.phase == "memorize + answer streaming":
            meter.set_phase("memorize")

    def stop() -> None:
        controller.cancel("stall-benchmark")

    def finish() -> None:
        meter.set_phase("close")
        window.close()
        meter.timer.stop()
        app.quit()

    controller.model_loaded.connect(on_model)
    controller.document_imported.connect(on_imported)
    controller.memorize_event.connect(on_event)
    controller.bridge.answer_token.connect(on_answer_token)
    controller.bridge.answer_finished.connect(on_answer_done)
    controller.model_failed.connect(lambda msg: (print(msg), app.quit()))
    controller.import_failed.connect(lambda msg: (print(msg), app.quit()))
    QTimer.singleShot(int((args.seconds + 600) * 1000), finish)  # a hard stop, whatever happens
    app.exec()

    summary = meter.summary()
    measured = {k: v for k, v in summary.items() if k not in ("startup", "close")}
    worst = max((v["max_ms"] for v in measured.values()), default=float("nan"))
    result = {
        "bench": "gui-stall", "target_ms": TARGET_MS, "tick_ms": TICK_MS, "longest_stall_ms": worst, "pass": worst < TARGET_MS,
        "model": state.get("model"), "device": state.get("device"), "document": state.get("document"),
        "tokens_memorized": state["tokens"], "tokens_total": state["total"],
        "tokens_per_s": state.get("tokens_per_s"), "answer_tokens_streamed": state["answer_tokens"],
        "memorize_seconds": round(state.get("memorize_seconds", 0.0), 1),
        "wall_seconds": round(time.perf_counter() - started, 1),
        "phases": summary,
    }
    print(f"\nGUI event-loop stalls ({TICK_MS} ms timer; target: longest < {TARGET_MS:.0f} ms)")
    print(f"model {result['model']} on {result['device']}; document {result['document']!r}; "
          f"memorized {state['tokens']:,} of {state['total']:,} tokens")
    header = f"{'phase':34} {'seconds':>8} {'ticks':>7} {'mean ms':>8} {'p99 ms':>8} {'max ms':>8} {'>50ms':>6}"
    print(header)
    print("-" * len(header))
    for phase, s in summary.items():
        print(f"{phase:34} {s['seconds']:>8} {s['ticks']:>7} {s['mean_ms']:>8} {s['p99_ms']:>8} "
              f"{s['max_ms']:>8} {s['over_50ms']:>6}")
    print(f"\nlongest stall (excluding window start-up and close): {worst:.1f} ms -> "
          f"{'PASS' if result['pass'] else 'FAIL'}")
    return result
