"""Usage page, issue #21 defect 8: cancelled requests are not failures, costs read the same way,
round axis ticks, stable provider colours, provider names, a table usable at small sizes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import QDate

from synthbot_desktop.gui.usage_page import PROVIDER_COLOURS, UsagePage
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.records import UsageRecord

pytestmark = pytest.mark.gui

COST_COLUMN = 8


def _add(ctx: Any, records: list[UsageRecord]) -> None:
    with ctx.db.session() as s:
        for r in records:
            repo.add_usage(s, r, ctx.user_id)


def _page(qtbot: Any, ctx: Any) -> UsagePage:
    page = UsagePage(ctx)
    qtbot.addWidget(page)
    page.since.setDate(QDate.currentDate().addDays(-6))
    page.until.setDate(QDate.currentDate())
    return page


def _refresh(qtbot: Any, page: UsagePage, calls: int) -> None:
    page.report = None
    page.refresh()
    qtbot.waitUntil(lambda: page.report is not None and page.report.totals.calls == calls, timeout=10000)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def test_cancelled_requests_are_not_failures_and_costs_read_alike(qtbot: Any, gui: Any) -> None:
    now = _now()
    ok = [UsageRecord("openai", model="gpt-4o-mini", tokens_in=100, tokens_out=20, cost_usd=Decimal("0.01"),
                      created_at=now) for _ in range(5)]
    cancelled = [UsageRecord("openai", model="gpt-4o-mini", success=False, error_kind="cancelled", created_at=now)
                 for _ in range(8)]
    failed = [UsageRecord("openai", model="gpt-4o-mini", success=False, error_kind="rate_limit", status_code=429,
                          cost_usd=Decimal("0"), created_at=now)]
    free = [UsageRecord("ollama", model="llama3.2", tokens_in=50, tokens_out=10, cost_usd=Decimal("0"),
                        created_at=now)]
    _add(gui.ctx, ok + cancelled + failed + free)
    page = _page(qtbot, gui.ctx)
    _refresh(qtbot, page, 15)
    text = page.totals.text()
    assert "(1 failed, 8 cancelled)" in text, text
    assert "+?" not in text and "$0.05</b>" in text, text  # cancelled calls cost nothing unknown
    costs = [page.table.item(i, COST_COLUMN).text() for i in range(page.table.rowCount())]
    assert sorted(costs) == ["$0.00", "$0.05"], costs  # not "$0.000000" next to "$0.05"
    names = {page.table.item(i, 1).text() for i in range(page.table.rowCount())}
    assert names == {"OpenAI", "Ollama"}


def test_axis_ticks_are_round_and_colours_stay_with_their_provider(qtbot: Any, gui: Any) -> None:
    now = _now()
    _add(gui.ctx, [UsageRecord("openai", model="gpt-4o-mini", tokens_in=90, tokens_out=12, created_at=now)])
    page = _page(qtbot, gui.ctx)
    page.metric_box.setCurrentText("Tokens")
    _refresh(qtbot, page, 1)
    axis = next(a for a in page.chart.axes() if a.orientation().name == "Vertical")
    step = (axis.max() - axis.min()) / (axis.tickCount() - 1)
    assert axis.min() == 0 and axis.max() >= 102
    mantissa = step / 10 ** int(f"{step:e}".split("e")[1])
    assert round(mantissa, 6) in (1, 2, 2.5, 5), (axis.max(), axis.tickCount())  # not 0, 26, 51, 77, 102
    (bars,) = page.chart.series()[0].barSets()
    assert bars.label() == "OpenAI"
    before = bars.color().name()
    assert before == PROVIDER_COLOURS["openai"]

    # A provider sorting before OpenAI appears: OpenAI keeps its colour.
    _add(gui.ctx, [UsageRecord("anthropic", model="claude", tokens_in=10, tokens_out=5, created_at=now),
                   UsageRecord("elevenlabs", model="eleven_flash_v2_5", characters=40, created_at=now)])
    _refresh(qtbot, page, 3)
    colours = {b.label(): b.color().name() for b in page.chart.series()[0].barSets()}
    assert colours["OpenAI"] == before
    assert colours["Anthropic"] == PROVIDER_COLOURS["anthropic"] and "ElevenLabs" in colours


def test_table_stays_readable_at_small_sizes(qtbot: Any, gui: Any) -> None:
    now = _now()
    _add(gui.ctx, [UsageRecord(p, model="some-rather-long-model-name-v2", tokens_in=123456, tokens_out=65432,
                               characters=98765, cost_usd=Decimal("12.345"), created_at=now - dt.timedelta(days=d))
                   for p in ("openai", "anthropic") for d in range(3)])
    page = _page(qtbot, gui.ctx)
    page.resize(700, 480)
    page.show()
    qtbot.waitExposed(page)
    _refresh(qtbot, page, 6)
    table = page.table
    row_h = table.verticalHeader().defaultSectionSize()
    qtbot.waitUntil(lambda: table.viewport().height() >= 3 * row_h, timeout=5000)
    for column in (3, 4, 5, 6, 7, COST_COLUMN):  # numbers are shown whole (scrolling sideways if needed)
        assert table.columnWidth(column) >= table.sizeHintForColumn(column), column
