"""What the providers cost: one report for `usage` (CLI) and the usage page (GUI).

Totals come from ``repositories.usage_summary`` (one GROUP BY in the database), so the CLI and
the page can never disagree. Costs stay ``None`` when no call's price was known.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.orm import Session

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import repositories as repo


@dataclass
class UsageTotals:
    calls: int = 0
    failures: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    characters: int = 0
    audio_seconds: float = 0.0
    cost_usd: Decimal | None = None
    cost_unknown_calls: int = 0

    def add(self, row: repo.UsageSummaryRow) -> None:
        self.calls += row.calls
        self.failures += row.failures
        self.tokens_in += row.tokens_in
        self.tokens_out += row.tokens_out
        self.characters += row.characters
        self.audio_seconds += row.audio_seconds
        self.cost_unknown_calls += row.cost_unknown_calls
        if row.cost_usd is not None:
            self.cost_usd = (self.cost_usd or Decimal(0)) + row.cost_usd


@dataclass
class UsageReport:
    rows: list[repo.UsageSummaryRow]
    totals: UsageTotals
    by_provider: dict[str, UsageTotals] = field(default_factory=dict)


def usage_report(
    s: Session, user_id: int | None, *, since: dt.datetime | None = None, until: dt.datetime | None = None,
    by_day: bool = True,
) -> UsageReport:
    """Rows per (day,) provider, model plus overall and per-provider totals."""
    if since is not None and until is not None and until <= since:
        raise UsageError(f"the range is empty: --until {until.date()} is not after --since {since.date()}")
    rows = repo.usage_summary(s, user_id, since=since, until=until, by_day=by_day)
    totals = UsageTotals()
    by_provider: dict[str, UsageTotals] = {}
    for row in rows:
        totals.add(row)
        by_provider.setdefault(row.provider, UsageTotals()).add(row)
    return UsageReport(rows, totals, by_provider)


def format_cost(cost: Decimal | None, unknown_calls: int = 0) -> str:
    if cost is None:
        return "unknown" if unknown_calls else "-"
    text = f"${cost:.6f}" if abs(cost) < Decimal("0.01") else f"${cost:.2f}"
    return text + ("+?" if unknown_calls else "")
