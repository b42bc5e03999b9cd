"""`synthbot-desktop admin grants|usage|flags|errors`: administering a fleet of desktops on one MySQL server."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, parse_date, print_json, row_count
from synthbot_desktop.errors import UsageError
from synthbot_desktop.services import admin as admin_service
from synthbot_desktop.storage import admin


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "admin", _usage, "fleet administration: grants, usage report, feature flags, error log")
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

    fl = add_command(sub, "flags", lambda ctx, args: args.flags_func(ctx, args),
                     "feature flags: turn a provider, tool or feature off for everyone or chosen users")
    fsub = fl.add_subparsers(dest="flags_command", metavar="ACTION", required=True)
    fls = fsub.add_parser("list", help="every flag: the database's decision, user overrides, what applies here")
    fls.add_argument("--url", help="database URL (default: the configured one)")
    add_json_flag(fls)
    fls.set_defaults(flags_func=_flags_list)
    fse = fsub.add_parser("set", help="turn NAME on or off (for everyone, or only for --user)")
    fse.add_argument("name", help="a flag name, e.g. provider.openai, tool.open, feature.tts.elevenlabs")
    fse.add_argument("state", choices=("on", "off"))
    fse.add_argument("--user", action="append", default=[], metavar="USER", help="only for this user (repeatable)")
    fse.add_argument("--url", help="database URL (default: the configured one)")
    fse.set_defaults(flags_func=_flags_set)
    fcl = fsub.add_parser("clear", help="forget the decision for NAME (or only --user's override)")
    fcl.add_argument("name")
    fcl.add_argument("--user", action="append", default=[], metavar="USER", help="only this user's override")
    fcl.add_argument("--url", help="database URL (default: the configured one)")
    fcl.set_defaults(flags_func=_flags_clear)

    er = add_command(sub, "errors", _errors, "errors users were shown (error_logs), newest first")
    er.add_argument("--url", help="database URL (default: the configured one)")
    er.add_argument("--since", type=parse_date, help="only errors on or after this date (YYYY-MM-DD)")
    er.add_argument("--user", help="only this user's errors")
    er.add_argument("--limit", type=row_count, default=200, help="at most this many (default 200)")
    add_json_flag(er)


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    raise UsageError("choose an action: admin grants | usage | flags | errors")


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


def _flags_list(ctx: AppContext, args: argparse.Namespace) -> int:
    views = admin_service.flags(ctx, args.url)
    if args.json:
        print_json([{"name": v.name, "description": v.description, "everyone": v.everyone, "users": v.users,
                     "here": v.here, "locked_here": v.locked_here} for v in views])
        return 0
    print("  ".join(("flag", "everyone", "here", "users")))
    for v in views:
        everyone = "-" if v.everyone is None else ("on" if v.everyone else "off")
        here = ("on" if v.here else "off") + (" (policy)" if v.locked_here else "")
        users = ", ".join(f"{u}={'on' if on else 'off'}" for u, on in v.users.items()) or "-"
        print(f"{v.name}  {everyone}  {here}  {users}")
    return 0


def _flags_set(ctx: AppContext, args: argparse.Namespace) -> int:
    admin_service.set_flag(ctx, args.name, args.state == "on", args.user, args.url)
    who = ", ".join(args.user) if args.user else "everyone"
    print(f"{args.name} is {args.state} for {who}", file=sys.stderr)
    return 0


def _flags_clear(ctx: AppContext, args: argparse.Namespace) -> int:
    count = admin_service.clear_flag(ctx, args.name, args.user, args.url)
    print(f"cleared {count} row(s) for {args.name}", file=sys.stderr)
    return 0


def _errors(ctx: AppContext, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UsageError("--limit must be at least 1")
    rows = admin_service.errors(ctx, since=args.since, user=args.user, limit=args.limit, url=args.url)
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no errors recorded", file=sys.stderr)
    for r in rows:
        print(f"{r.created_at.isoformat(timespec='seconds')}  {r.username or '-'}  {r.source}  "
              f"{r.kind or '-'}  {r.message}")
    return 0
