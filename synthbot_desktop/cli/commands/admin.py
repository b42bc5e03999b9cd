"""`synthbot-desktop admin grants|usage`: administering a fleet of desktops on one MySQL server."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, parse_date, print_json
from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import admin


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "admin", _usage, "fleet administration: least-privilege grants, usage report")
    sub = parser.add_subparsers(dest="admin_command", metavar="ACTION")
    gr = add_command(sub, "grants", _grants, "print the GRANT statements a desktop client account needs")
    gr.add_argument("--user", required=True, help="the MySQL account name for desktop clients")
    gr.add_argument("--host", default="%", help="the account's host part (default: %%)")
    gr.add_argument("--database", required=True, help="the app's database (schema) name")
    us = add_command(sub, "usage", _usage_report, "usage over all users, grouped")
    us.add_argument("--url", help="database URL (default: the configured one)")
    us.add_argument("--by", default="user,provider", help="comma list of user,provider,model,month")
    us.add_argument("--since", type=parse_date, help="only calls on or after this date (YYYY-MM-DD)")
    us.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    add_json_flag(us)


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    raise UsageError("choose an action: admin grants | usage")


def _grants(ctx: AppContext, args: argparse.Namespace) -> int:
    for line in admin.grant_statements(args.user, args.database, args.host):
        print(line)
    return 0


def _usage_report(ctx: AppContext, args: argparse.Namespace) -> int:
    by = admin.parse_by(args.by)
    db = ctx.open_database(args.url)
    try:
        with db.session() as s:
            rows = [r.as_dict(by) for r in admin.usage_report(s, by, args.since)]
    finally:
        db.dispose()
    if args.json:
        print_json(rows)
        return 0
    columns = [*by, "calls", "failures", "tokens_in", "tokens_out", "characters", "cost_usd"]
    if args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return 0
    print("  ".join(columns))
    for row in rows:
        print("  ".join("-" if row[c] is None else str(row[c]) for c in columns))
    return 0
