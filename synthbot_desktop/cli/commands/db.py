"""`synthbot-desktop db upgrade|current|downgrade|password`."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json, read_secret
from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import backup, migrate
from synthbot_desktop.storage.db import masked, parse_url


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "db", _usage, "database schema: upgrade, current, downgrade")
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION")
    up = add_command(sub, "upgrade", _upgrade, "upgrade the schema to the latest revision")
    up.add_argument("revision", nargs="?", default="head")
    cur = add_command(sub, "current", _current, "show the schema revision and whether it is the latest")
    down = add_command(sub, "downgrade", _downgrade, "downgrade the schema to REV (e.g. base)")
    down.add_argument("revision", metavar="REV")
    pw = add_command(sub, "password", _password, "store the MySQL password for --url/the configured URL in the keyring")
    bk = add_command(sub, "backup", _backup, "back up the database (SQLite file copy / MySQL consistent dump)")
    bk.add_argument("--out", type=Path, help="backup file (default: <data>/backups/synthbot-<time>...)")
    rs = add_command(sub, "restore", _restore, "replace the database's data with a backup FILE")
    rs.add_argument("file", type=Path, metavar="FILE")
    rs.add_argument("--yes", action="store_true", help="confirm: the current data is replaced")
    for p in (up, cur, down, pw, bk, rs):
        p.add_argument("--url", help="database URL (default: the configured one)")
        add_json_flag(p)


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    raise UsageError("choose an action: db upgrade | current | downgrade REV | password")


def _upgrade(ctx: AppContext, args: argparse.Namespace) -> int:
    return _migrate(ctx, args, "upgrade", migrate.upgrade)


def _downgrade(ctx: AppContext, args: argparse.Namespace) -> int:
    return _migrate(ctx, args, "downgrade", migrate.downgrade)


def _migrate(ctx: AppContext, args: argparse.Namespace, action: str, step: Callable[[Engine, str], None]) -> int:
    db = ctx.open_database(args.url)
    try:
        before = migrate.current_revision(db.engine)
        step(db.engine, args.revision)
        after = migrate.current_revision(db.engine)
    finally:
        db.dispose()
    _report(args, db.url, before=before, after=after, action=action)
    return 0


def _current(ctx: AppContext, args: argparse.Namespace) -> int:
    db = ctx.open_database(args.url)
    current = migrate.current_revision(db.engine)
    head = migrate.head_revision()
    if args.json:
        print_json({"url": masked(db.url), "current": current, "head": head, "up_to_date": current == head})
    else:
        state = "up to date" if current == head else f"behind (latest is {head})"
        print(f"{masked(db.url)}: {current or 'empty (no schema)'} — {state}")
    return 0


def _password(ctx: AppContext, args: argparse.Namespace) -> int:
    parsed = parse_url(ctx.database_url(args.url))
    if parsed.get_backend_name() == "sqlite" or not parsed.username:
        raise UsageError("this database URL has no user; only MySQL/MariaDB URLs take a password")
    secret = read_secret(f"Password for {parsed.username}@{parsed.host}: ")
    ctx.keystore.set_db_password(parsed.username, parsed.host or "localhost", parsed.port, secret)
    print(f"stored the password for {parsed.username}@{parsed.host} in the keyring", file=sys.stderr)
    return 0


def _backup(ctx: AppContext, args: argparse.Namespace) -> int:
    db = ctx.open_database(args.url)
    try:
        out = args.out
        if out is None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            suffix = ".sqlite3" if db.engine.dialect.name == "sqlite" else ".jsonl.gz"
            out = ctx.paths.data_dir / "backups" / f"synthbot-{stamp}{suffix}"
        written = backup.backup(db.engine, out)
    finally:
        db.dispose()
    if args.json:
        print_json({"url": masked(db.url), "file": str(written), "bytes": written.stat().st_size})
    else:
        print(f"{masked(db.url)}: backed up to {written}")
    return 0


def _restore(ctx: AppContext, args: argparse.Namespace) -> int:
    if not args.yes:
        raise UsageError("db restore replaces all the app's data in the database: add --yes to confirm")
    db = ctx.open_database(args.url)
    try:
        counts = backup.restore(db.engine, args.file)
    finally:
        db.dispose()
    if args.json:
        print_json({"url": masked(db.url), "file": str(args.file), "rows": counts})
    else:
        print(f"{masked(db.url)}: restored {sum(counts.values())} rows from {args.file}")
    return 0


def _report(args: argparse.Namespace, url: Any, *, before: str | None, after: str | None, action: str) -> None:
    if args.json:
        print_json({"url": masked(url), "action": action, "from": before, "to": after})
    else:
        print(f"{masked(url)}: {before or 'empty'} -> {after or 'empty'}")
