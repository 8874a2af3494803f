"""A small live line plot for the memorization perplexity curve.

Painted by hand with QPainter so the app needs no plotting library; it only has to draw one
rising or falling line with a few axis labels, updated once per training chunk.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget


def _fmt_tokens(n: float) -> str:
    """Compact token counts for the x axis: 950, 12k, 1.2M."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return f"{n:.0f}"


class PerplexityPlot(QWidget):
    """Plots (tokens seen, running perplexity) pairs; y on a log scale since ppl spans decades."""

    def __init__(self, parent: QWidget | None = None, title: str = "Perplexity (surprise)") -> None:
        super().__init__(parent)
        self._points: list[tuple[float, float]] = []
        self._title = title
        self._x_max: float | None = None
        self.setMinimumSize(220, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    # -- data -------------------------------------------------------------------------------
    def set_points(self, points: list[tuple[float, float]]) -> None:
        """Replace the whole curve (e.g. a finished memory's stored curve)."""
        self._points = [(float(x), float(y)) for x, y in points if _finite(y)]
        self.update()

    def add_point(self, x: float, y: float) -> None:
        """Append one point; non-finite values (a diverged chunk) are skipped, not drawn."""
        if _finite(y):
            self._points.append((float(x), float(y)))
            self.update()

    def set_x_max(self, x_max: float | None) -> None:
        """Fix the x range to the total tokens so the line grows across the plot as work proceeds."""
        self._x_max = x_max
        self.update()

    def clear(self) -> None:
        self._points = []
        self.update()

    def points(self) -> list[tuple[float, float]]:
        return list(self._points)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt naming)
        return QSize(360, 160)

    # -- painting ---------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802 (Qt naming)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), QColor("#ffffff"))
        fm = p.fontMetrics()
        left, right, top, bottom = fm.horizontalAdvance("10000") + 10, 12, fm.height() + 8, fm.height() + 8
        area = QRectF(left, top, max(10, self.width() - left - right), max(10, self.height() - top - bottom))

        p.setPen(QColor("#24344d"))
        p.drawText(QRectF(0, 2, self.width(), fm.height()), Qt.AlignmentFlag.AlignHCenter, self._title)
        p.setPen(QPen(QColor("#c9cfd9"), 1))
        p.drawRect(area)

        if not self._points:
            p.setPen(QColor("#9aa3b2"))
            p.drawText(area, Qt.AlignmentFlag.AlignCenter, "waiting for the first chunk…")
            return

        xs = [x for x, _ in self._points]
        ys = [math.log10(max(y, 1e-6)) for _, y in self._points]
        x_lo, x_hi = 0.0, max(self._x_max or 0.0, max(xs), 1.0)
        y_lo, y_hi = min(ys), max(ys)
        if y_hi - y_lo < 1e-3:
            y_lo, y_hi = y_lo - 0.05, y_hi + 0.05
        pad = (y_hi - y_lo) * 0.08
        y_lo, y_hi = y_lo - pad, y_hi + pad

        def to_px(x: float, ylog: float) -> QPointF:
            px = area.left() + (x - x_lo) / (x_hi - x_lo) * area.width()
            py = area.bottom() - (ylog - y_lo) / (y_hi - y_lo) * area.height()
            return QPointF(px, py)

        # Three horizontal grid lines with perplexity labels.
        for frac in (0.0, 0.5, 1.0):
            ylog = y_lo + pad + frac * (y_hi - y_lo - 2 * pad)
            pt = to_px(x_lo, ylog)
            p.setPen(QPen(QColor("#eef1f5"), 1))
            p.drawLine(QPointF(area.left(), pt.y()), QPointF(area.right(), pt.y()))
            p.setPen(QColor("#5b6474"))
            label = f"{10**ylog:.1f}" if 10**ylog < 100 else f"{10**ylog:.0f}"
            p.drawText(QRectF(0, pt.y() - fm.height() / 2, left - 4, fm.height()),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, label)
        p.drawText(QRectF(area.left(), area.bottom() + 2, 80, fm.height()), Qt.AlignmentFlag.AlignLeft, "0")
        p.drawText(QRectF(area.right() - 120, area.bottom() + 2, 120, fm.height()),
                   Qt.AlignmentFlag.AlignRight, f"{_fmt_tokens(x_hi)} tokens")

        path = QPainterPath(to_px(xs[0], ys[0]))
        for x, y in zip(xs[1:], ys[1:], strict=True):
            path.lineTo(to_px(x, y))
        p.setPen(QPen(QColor("#7b4fc4"), 2))
        p.drawPath(path)
        last = to_px(xs[-1], ys[-1])
        p.setBrush(QColor("#7b4fc4"))
        p.drawEllipse(last, 3, 3)
        p.setPen(QColor("#24344d"))
        p.drawText(QRectF(area.left() + 6, area.top() + 2, area.width() - 12, fm.height()),
                   Qt.AlignmentFlag.AlignRight, f"now {self._points[-1][1]:.2f}")


def _finite(v: float) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
