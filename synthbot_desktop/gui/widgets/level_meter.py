"""A live input level bar (dBFS mapped to 0–100) with a short peak hold.

Repaints are cheap: the widget only stores two numbers per event and calls ``update()``;
Qt coalesces repaints, so a 50 Hz level stream costs nothing on the GUI thread.
"""

from __future__ import annotations

import math
import time

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget

from synthbot_desktop.gui.theme import accent, mix

FLOOR_DBFS = -60.0
PEAK_HOLD_S = 1.0


def level_fraction(dbfs: float, floor: float = FLOOR_DBFS) -> float:
    """Map dBFS (floor..0) to 0..1, clamped."""
    if dbfs != dbfs:  # NaN
        return 0.0
    return max(0.0, min(1.0, (dbfs - floor) / -floor))


class LevelMeter(QWidget):
    """``release_s`` > 0 lets the bar fall back exponentially (rises are instant): raw 50 ms levels
    of speech jump between full and empty from one block to the next, which reads as flicker."""

    def __init__(self, parent: QWidget | None = None, *, release_s: float = 0.0) -> None:
        super().__init__(parent)
        self.release_s = release_s
        self._level_at = 0.0
        self.setObjectName("level_meter")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Microphone level")
        self.rms = 0.0
        self.peak = 0.0
        self._peak_at = 0.0

    def sizeHint(self) -> QSize:
        return QSize(160, 10)

    def set_level(self, rms_dbfs: float, peak_dbfs: float) -> None:
        now = time.monotonic()
        rms = level_fraction(rms_dbfs)
        if self.release_s > 0 and rms < self.rms:
            rms = max(rms, self.rms * math.exp(-(now - self._level_at) / self.release_s))
        self.rms, self._level_at = rms, now
        peak = level_fraction(peak_dbfs)
        if peak >= self.peak or now - self._peak_at > PEAK_HOLD_S:
            self.peak, self._peak_at = peak, now
        self.update()

    def reset(self) -> None:
        self.rms = self.peak = 0.0
        self.update()

    def colours(self) -> tuple[QColor, QColor, QColor, QColor]:
        """Track, level, loud level and peak mark, from the palette (readable light and dark)."""
        pal = self.palette()
        base = pal.color(QPalette.ColorRole.Base)
        track = mix(base, pal.color(QPalette.ColorRole.Text), 0.12)
        level = accent("#2e9d5b", pal)
        return track, level, accent("#d9822b", pal), mix(level, pal.color(QPalette.ColorRole.Text), 0.5)

    def paintEvent(self, event: QPaintEvent) -> None:
        track, level, loud, peak_mark = self.colours()
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(track)
        p.drawRoundedRect(r, 4, 4)
        colour = level if self.rms < 0.85 else loud
        p.setBrush(colour)
        p.drawRoundedRect(QRectF(r.x(), r.y(), r.width() * self.rms, r.height()), 4, 4)
        if self.peak > 0:
            p.setBrush(peak_mark)
            x = r.x() + r.width() * self.peak
            p.drawRect(QRectF(max(r.x(), x - 2), r.y(), 2, r.height()))
        p.end()
