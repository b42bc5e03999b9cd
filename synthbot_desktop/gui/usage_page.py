"""Usage: tokens, characters, audio minutes and cost per provider/model/day, with a chart.

Numbers come from ``services.usage.usage_report`` — the same query the `usage` command
prints — so the page and the CLI always agree. The ElevenLabs quota is asked for only when a
key exists, in the background; the page works offline without it.

Issue #21 defect 8: cancelled speculative requests are their own count (not failures), every
cost in the table uses the same decimals, the y axis has round ticks (0, 25, 50, ...), each
provider keeps its colour across refreshes and is shown by name, and the table keeps at least a
few readable rows when the window is small (a splitter with the chart; columns scroll, not crush).
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from typing import Any

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QValueAxis
from PySide6.QtCore import QDate, QEvent, Qt
from PySide6.QtGui import QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import await_coro, run_job
from synthbot_desktop.services.usage import UsageReport, cost_decimals, format_cost, provider_name, usage_report

COLUMNS = ["Day", "Provider", "Model", "Calls", "Tokens in", "Tokens out", "Characters", "Audio min", "Cost"]
METRICS = {"Tokens": lambda r: r.tokens_in + r.tokens_out, "Characters": lambda r: r.characters,
           "Audio minutes": lambda r: r.audio_seconds / 60, "Calls": lambda r: r.calls}


DATE_FORMAT = "yyyy-MM-dd"

# Fixed colours for the providers we know; others get one picked from their name (stable across
# refreshes and runs, unlike the chart theme's order-based colours).
PROVIDER_COLOURS = {
    "openai": "#10a37f", "anthropic": "#d97757", "gemini": "#4285f4", "ollama": "#6b7280",
    "elevenlabs": "#8b5cf6", "piper": "#f59e0b", "local-whisper": "#0ea5e9",
}
_SPARE_COLOURS = ("#e11d48", "#65a30d", "#0891b2", "#c026d3", "#ca8a04", "#4f46e5", "#059669", "#dc2626")


def provider_colour(provider: str) -> QColor:
    hex_ = PROVIDER_COLOURS.get(provider) or _SPARE_COLOURS[zlib.crc32(provider.encode()) % len(_SPARE_COLOURS)]
    return QColor(hex_)


def nice_axis(peak: float, max_ticks: int = 6) -> tuple[float, int, int]:
    """(top, tick count, decimals) for a 0-based axis with round steps (1, 2, 2.5, 5 x 10^k):
    102 gives 0, 25, 50, 75, 100, 125 — not 0, 26, 51, 77, 102."""
    if peak <= 0 or not math.isfinite(peak):
        return 1.0, 2, 0
    raw = peak / (max_ticks - 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    top = math.ceil(peak / step - 1e-9) * step
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if step / mag == 2.5 and mag < 10 else 0)
    return top, round(top / step) + 1, int(decimals)


def _utc_start(d: QDate) -> dt.datetime:
    return dt.datetime(d.year(), d.month(), d.day(), tzinfo=dt.UTC)


class UsagePage(QWidget):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("usage_page")
        # The chart and the table keep readable minimum sizes; below them the page scrolls rather than
        # forcing the whole window taller than 500 px (issue #21, defect 9).
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        content = QWidget()
        scroll.setWidget(content)
        outer.addWidget(scroll)
        col = QVBoxLayout(content)
        top = QHBoxLayout()
        today = QDate.currentDate()
        self.since = QDateEdit(today.addDays(-29))
        self.since.setObjectName("usage_since")
        self.until = QDateEdit(today)
        self.until.setObjectName("usage_until")
        for edit in (self.since, self.until):
            # ISO dates read the same in every locale ("25 10 2026" in some locales is ambiguous).
            edit.setDisplayFormat(DATE_FORMAT)
            edit.setCalendarPopup(True)
            edit.setMinimumWidth(edit.fontMetrics().horizontalAdvance("2026-10-25") + 48)
        self.metric_box = QComboBox()
        self.metric_box.setObjectName("usage_metric")
        self.metric_box.addItems(list(METRICS))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("usage_refresh")
        for label, w in (("From", self.since), ("to", self.until), ("Chart", self.metric_box)):
            top.addWidget(QLabel(label))
            top.addWidget(w)
        top.addStretch(1)
        top.addWidget(self.refresh_button)
        col.addLayout(top)

        self.totals = QLabel("")
        self.totals.setObjectName("usage_totals")
        self.totals.setWordWrap(True)
        col.addWidget(self.totals)
        self.quota = QLabel("")
        self.quota.setObjectName("usage_quota")
        col.addWidget(self.quota)

        self.chart = QChart()
        self.chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setObjectName("usage_chart")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(210)  # below this the axis labels collide and Qt elides them
        self._colour_chart()

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("usage_table")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        # Numbers at their full width (scroll sideways rather than cut "12,345" to "1…"); the model
        # column takes what is left.
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(48)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        rows = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(header.sizeHint().height() + 4 * rows + 8)  # >= 4 readable rows
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName("usage_splitter")
        self.splitter.setChildrenCollapsible(False)
        self.splitter.addWidget(self.chart_view)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 1)
        col.addWidget(self.splitter, 1)

        self.report: UsageReport | None = None
        self.refresh_button.clicked.connect(self.refresh)
        self.since.dateChanged.connect(lambda _d: self.refresh())
        self.until.dateChanged.connect(lambda _d: self.refresh())
        self.metric_box.currentTextChanged.connect(lambda _t: self._draw_chart())

    def date_range(self) -> tuple[dt.datetime, dt.datetime]:
        """[since 00:00 UTC, the day after 'to' 00:00 UTC) — both days included."""
        return _utc_start(self.since.date()), _utc_start(self.until.date().addDays(1))

    def refresh(self) -> None:
        since, until = self.date_range()

        def read() -> UsageReport:
            with self.ctx.db.session() as s:
                return usage_report(s, self.ctx.user_id, since=since, until=until)

        run_job(read, self._show, self._fail)
        self._ask_quota()

    def _show(self, report: UsageReport) -> None:
        self.report = report
        self.table.setRowCount(len(report.rows))
        places = cost_decimals([r.cost_usd for r in report.rows])  # one column, one format
        for i, r in enumerate(report.rows):
            values = [str(r.day or ""), provider_name(r.provider), r.model or "", r.calls, f"{r.tokens_in:,}",
                      f"{r.tokens_out:,}", f"{r.characters:,}", f"{r.audio_seconds / 60:.2f}",
                      format_cost(r.cost_usd, r.cost_unknown_calls, places)]
            for j, v in enumerate(values):
                item = QTableWidgetItem(str(v))
                if j >= 3:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(i, j, item)
        t = report.totals
        self.totals.setText(
            f"<b>{t.calls}</b> calls ({t.failures} failed"
            + (f", {t.cancelled} cancelled" if t.cancelled else "") + ") · "
            f"<b>{t.tokens_in + t.tokens_out:,}</b> tokens "
            f"({t.tokens_in:,} in / {t.tokens_out:,} out) · <b>{t.characters:,}</b> characters · "
            f"<b>{t.audio_seconds / 60:.1f}</b> audio minutes · "
            f"cost <b>{format_cost(t.cost_usd, t.cost_unknown_calls)}</b>"
        )
        self._draw_chart()

    def _draw_chart(self) -> None:
        report = self.report
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        if report is None or not report.rows:
            self.chart.setTitle("No usage in this period")
            return
        metric = METRICS[self.metric_box.currentText()]
        days = sorted({r.day for r in report.rows if r.day is not None})
        providers = sorted({r.provider for r in report.rows})
        series = QBarSeries()
        peak = 0.0
        for provider in providers:
            bar = QBarSet(provider_name(provider))
            bar.setColor(provider_colour(provider))
            bar.setBorderColor(provider_colour(provider))
            for day in days:
                value = float(sum(metric(r) for r in report.rows if r.provider == provider and r.day == day))
                peak = max(peak, value)
                bar.append(value)
            series.append(bar)
        self.chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append([d.strftime("%m-%d") for d in days])
        y = QValueAxis()
        top, ticks, decimals = nice_axis(peak)
        y.setRange(0, top)
        y.setTickCount(ticks)
        y.setLabelFormat(f"%.{decimals}f")
        self.chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
        self.chart.setTitle(f"{self.metric_box.currentText()} per day")
        self._colour_chart()

    def _colour_chart(self) -> None:
        """Chart background, title, legend and axis labels from the palette (a white chart on a
        dark window, or black labels on it, in dark mode otherwise; the bars keep their colours)."""
        pal = self.palette()
        base, text = pal.color(QPalette.ColorRole.Base), pal.color(QPalette.ColorRole.Text)
        self.chart.setBackgroundBrush(base)
        self.chart.setTitleBrush(text)
        self.chart.legend().setLabelColor(text)
        self.chart_view.setBackgroundBrush(pal.color(QPalette.ColorRole.Window))
        for axis in self.chart.axes():
            axis.setLabelsColor(text)
            axis.setGridLineColor(pal.color(QPalette.ColorRole.Midlight))
            axis.setLinePenColor(pal.color(QPalette.ColorRole.Mid))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._colour_chart()
        super().changeEvent(event)

    def _ask_quota(self) -> None:
        def fetch() -> Any:
            if not self.ctx.keystore.get("elevenlabs"):
                return None
            from synthbot_desktop.tts import voice_service

            return await_coro(voice_service.subscription(self.ctx))

        def show(sub: Any) -> None:
            if sub is None:
                self.quota.setText("ElevenLabs quota: no key set.")
                return
            reset = f", resets {sub.next_reset:%Y-%m-%d}" if sub.next_reset else ""
            self.quota.setText(f"ElevenLabs quota: {sub.character_count:,} of {sub.character_limit:,} characters "
                               f"used ({sub.remaining:,} left{reset}).")

        run_job(fetch, show, lambda e: self.quota.setText(
            "ElevenLabs quota unavailable: " + describe(e)))

    def _fail(self, error: BaseException) -> None:
        self.totals.setText(describe(error))
