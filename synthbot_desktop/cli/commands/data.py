"""`synthbot-desktop data export-all [--out FILE]` and `data delete-all --yes`: this user's data rights.

Thin adapter over ``services.data_rights``: the export is one JSON document (to stdout, or to a
file readable only by its owner); the erasure asks for ``--yes`` because it cannot be undone.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import _default, add_command, add_json_flag, print_json
from synthbot_desktop.errors import UsageError


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "data", lambda ctx, args: args.dfunc(ctx, args),
                    "your data: export all of it, or delete all of it")
    sub = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    e = sub.add_parser("export-all", help="everything kept about you (sessions, messages, preferences, memory, "
                                          "usage) as JSON")
    e.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (readable only by you) instead of stdout")
    e.set_defaults(dfunc=_export)
    d = sub.add_parser("delete-all", help="delete all of your data and this app's keyring entries (cannot be undone)")
    d.add_argument("--yes", action="store_true", help="confirm: really delete everything")
    add_json_flag(d)
    d.set_defaults(dfunc=_delete)


def _export(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.services.data_rights import export_all

    doc = export_all(ctx)
    if args.out is None:
        print_json(doc)
        return 0
    text = json.dumps(doc, default=_default, ensure_ascii=False, indent=2) + "\n"
    try:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {args.out}: {exc.strerror}", hint="choose a writable file") from None
    counts = ", ".join(f"{n} {name}" for name, n in doc["counts"].items() if n)
    print(f"exported your data to {args.out} ({counts or 'nothing stored'})")
    return 0


def _delete(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.services.data_rights import delete_all

    if not args.yes:
        raise UsageError("delete-all erases all of your conversations, preferences, memory, usage and stored keys",
                         hint="run `synthbot-desktop data export-all --out FILE` first if you want a copy, "
                              "then `synthbot-desktop data delete-all --yes`")
    report = delete_all(ctx)
    if args.json:
        print_json({"deleted_rows": report.rows, "keyring_entries": report.keyring_entries,
                    "local_files": report.local_files})
    else:
        total = sum(report.rows.values())
        print(f"deleted {total} row(s), {len(report.keyring_entries)} keyring entr(ies) and "
              f"{report.local_files} local file(s)")
    return 0
