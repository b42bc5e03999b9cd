"""`synthbot-desktop doctor [--json]`: what works, what does not, and how to fix it."""

from __future__ import annotations

import argparse
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.diagnostics import FAIL, as_json, run_checks

_MARK = {"ok": "ok  ", "warn": "WARN", "fail": "FAIL"}


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "doctor", _doctor, "check config, database, keyring, audio, models, providers")
    add_json_flag(parser)


def _doctor(ctx: AppContext, args: argparse.Namespace) -> int:
    checks = run_checks(ctx)
    if args.json:
        print_json(as_json(checks))
    else:
        for c in checks:
            print(f"[{_MARK.get(c.status, c.status)}] {c.name:<10} {c.detail}")
            if c.fix and c.status != "ok":
                print(f"       fix: {c.fix}")
    return 1 if any(c.status == FAIL for c in checks) else 0
