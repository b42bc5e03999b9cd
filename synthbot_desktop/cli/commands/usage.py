"""`synthbot-desktop usage [--since DATE] [--until DATE] [--total] [--json]`: what the providers cost.

Totals come from ``repositories.usage_summary`` (one GROUP BY in the database); the desktop
usage page calls :func:`usage_report` too, so the CLI and the page can never disagree.
Costs stay ``None`` when no call's price was known: an unknown cost is not shown as zero.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, parse_date, print_json
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


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "usage", _usage, "tokens, characters, audio minutes and cost per provider/model/day")
    parser.add_argument("--since", type=parse_date, help="first day to include (YYYY-MM-DD, UTC)")
    parser.add_argument("--until", type=parse_date, help="first day to leave out (YYYY-MM-DD, UTC)")
    parser.add_argument("--total", action="store_true", help="one row per provider/model instead of per day")
    add_json_flag(parser)


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    with ctx.db.session() as s:
        report = usage_report(s, ctx.user_id, since=args.since, until=args.until, by_day=not args.total)
    if args.json:
        print_json({
            "since": args.since, "until": args.until,
            "rows": report.rows, "totals": report.totals,
            "by_provider": report.by_provider,
        })
        return 0
    header = f"{'day':<10}  {'provider':<13}  {'model':<26} {'calls':>5} {'tok in':>8} {'tok out':>8} " \
             f"{'chars':>7} {'audio min':>9} {'cost':>11}"
    print(header)
    print("-" * len(header))
    for r in report.rows:
        print(f"{r.day or 'all'!s:<10}  {r.provider:<13}  {(r.model or '-')[:26]:<26} {r.calls:>5} "
              f"{r.tokens_in:>8} {r.tokens_out:>8} {r.characters:>7} {r.audio_seconds / 60:>9.2f} "
              f"{format_cost(r.cost_usd, r.cost_unknown_calls):>11}")
    t = report.totals
    print("-" * len(header))
    print(f"{'total':<10}  {'':<13}  {'':<26} {t.calls:>5} {t.tokens_in:>8} {t.tokens_out:>8} {t.characters:>7} "
          f"{t.audio_seconds / 60:>9.2f} {format_cost(t.cost_usd, t.cost_unknown_calls):>11}")
    return 0
