"""`synthbot-desktop usage [--since DATE] [--until DATE] [--total] [--json]`: what the providers cost.

Totals come from ``storage.usage_stats.usage_summary`` (one GROUP BY in the database); the desktop
usage page calls :func:`usage_report` too, so the CLI and the page can never disagree.
Costs stay ``None`` when no call's price was known: an unknown cost is not shown as zero.
"""

from __future__ import annotations

import argparse
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, parse_date, print_json
from synthbot_desktop.services.usage import UsageReport, UsageTotals, format_cost, usage_report  # noqa: F401


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
