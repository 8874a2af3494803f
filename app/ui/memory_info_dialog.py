"""A memory's sources, settings and perplexity curve, as `app.memories.memory_summary` returns them:
what it holds of each source (chapters, tokens), and, while it is being memorized, this run's
progress and the curve so far."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QListWidget,
    QVBoxLayout,
    QWidget,
)

from app.memories import Holding
from app.ui.library_rows import STATUS_TEXT
from app.ui.memorize_form import SETTING_LABELS
from app.ui.plot import PerplexityPlot
from app.ui.resources import icon
from app.ui.widgets import fmt_tokens
from locas_engine import spec


def curve_points(curve: Any) -> list[tuple[float, float]]:
    """Accept [(tokens, ppl)], [[tokens, ppl]] or [{"tokens":…, "ppl":…}] (stored JSON varies)."""
    points: list[tuple[float, float]] = []
    for entry in curve or []:
        try:
            if isinstance(entry, dict):
                x = entry.get("tokens_done", entry.get("tokens", entry.get("x")))
                y = entry.get("ppl", entry.get("y"))
            else:
                x, y = entry[0], entry[1]
            points.append((float(x), float(y)))
        except (TypeError, ValueError, IndexError, KeyError):
            continue
    return points


class MemoryInfoDialog(QDialog):
    def __init__(self, summary: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name = summary.get("name", "memory")
        self.setWindowTitle(f"Memory “{name}”")
        self.setWindowIcon(icon("memory"))
        layout = QVBoxLayout(self)

        facts = QFormLayout()
        status = summary.get("status", "")
        facts.addRow("Status:", QLabel(STATUS_TEXT.get(status, status)))
        done, total = summary.get("tokens_done") or 0, summary.get("tokens_total") or 0
        held = summary.get("tokens_held")
        self.holds = QLabel((f"{held:,} tokens" if held else "nothing yet") if held is not None else
                            (f"{done:,} of {total:,} tokens" if total else fmt_tokens(done)))
        facts.addRow("Holds:", self.holds)
        if status != "done" and total:  # the run under way (or cut short): where a resume starts
            facts.addRow("This run:", QLabel(f"{done:,} of {total:,} tokens saved"))
        if summary.get("ppl") is not None:
            label = {"done": "Final perplexity:", "running": "Perplexity so far:",
                     "paused": "Perplexity so far:", "queued": "Perplexity so far:"}.get(
                status, "Perplexity when stopped:")
            value = QLabel(f"{summary['ppl']:.2f}")
            value.setToolTip("Online perplexity: how well the model predicted the text as it "
                             "memorized it, each chunk scored just before it was learned.")
            facts.addRow(label, value)
        if summary.get("backbone"):
            facts.addRow("Model:", QLabel(str(summary["backbone"])))
        if summary.get("path"):
            path = QLabel(str(summary["path"]))
            path.setWordWrap(True)
            facts.addRow("File:", path)
        if summary.get("message"):
            msg = QLabel(str(summary["message"]))
            msg.setWordWrap(True)
            facts.addRow("Note:", msg)
        layout.addLayout(facts)

        sources_box = QGroupBox("Sources (in the order memorized)")
        sl = QVBoxLayout(sources_box)
        self.sources = QListWidget()
        for s in summary.get("sources", []):
            title = s.get("title", s.get("document_id"))
            if "held" in s:  # which chapters and how many tokens (app.memories.holdings)
                holding = Holding(s["document_id"], title, s.get("sections") or 0, s["held"],
                                  s.get("tokens_held") or 0, s.get("pending") or [], s.get("status") or "done")
                self.sources.addItem(f"{title}: {holding.describe('chapters')}")
                continue
            tokens = f" — {s['tokens']:,} tokens" if s.get("tokens") else ""
            state = "" if s.get("status") in (None, "done") else f" [{s['status']}]"
            self.sources.addItem(f"{title}{tokens}{state}")
        self.sources.setMaximumHeight(110)
        sl.addWidget(self.sources)
        layout.addWidget(sources_box)

        settings_box = QGroupBox("Settings")
        form = QFormLayout(settings_box)
        stored = spec.migrate(summary.get("settings") or {})  # from its files; an old tau_scale too
        for key in (k for k in SETTING_LABELS if k in stored):  # in the Memorize dialog's order
            form.addRow(f"{SETTING_LABELS[key]}:", QLabel(str(stored[key])))
        layout.addWidget(settings_box)

        self.plot = PerplexityPlot(title="Perplexity while memorizing")
        points = curve_points(summary.get("curve"))
        self.plot.set_points(points)
        if points:
            self.plot.set_x_max(max(summary.get("curve_end") or total, points[-1][0]))
        layout.addWidget(self.plot, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(520, 560)
