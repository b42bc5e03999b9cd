"""`synthbot-desktop config list|get|set|reset`: the settings registry from the command line."""

from __future__ import annotations

import argparse
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.config import REGISTRY
from synthbot_desktop.errors import UsageError


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "config", _usage, "show and change settings")
    sub = parser.add_subparsers(dest="config_command", metavar="ACTION")
    lst = add_command(sub, "list", _list, "every setting with its value and where it comes from")
    add_json_flag(lst)
    get = add_command(sub, "get", _get, "print one setting")
    get.add_argument("key")
    st = add_command(sub, "set", _set, "change a setting in the user file")
    st.add_argument("key")
    st.add_argument("value")
    rs = add_command(sub, "reset", _reset, "forget the user's value for a setting")
    rs.add_argument("key")


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    raise UsageError("choose an action: config list | get KEY | set KEY VALUE | reset KEY")


def _check(key: str) -> None:
    if key not in REGISTRY:
        raise UsageError(f"no setting named {key!r} (see `synthbot-desktop config list`)")


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    s = ctx.settings
    rows = [{"key": k, "value": s.get(k), "source": s.source(k), "locked": s.is_locked(k),
             "description": spec.description} for k, spec in REGISTRY.items()]
    if args.json:
        print_json(rows)
    else:
        for r in rows:
            lock = " (locked)" if r["locked"] else ""
            print(f"{r['key']} = {r['value']!r}  [{r['source']}{lock}]")
    return 0


def _get(ctx: AppContext, args: argparse.Namespace) -> int:
    _check(args.key)
    print(ctx.settings.get(args.key))
    return 0


def _set(ctx: AppContext, args: argparse.Namespace) -> int:
    _check(args.key)
    ctx.settings.set(args.key, args.value, from_text=True)
    return 0


def _reset(ctx: AppContext, args: argparse.Namespace) -> int:
    _check(args.key)
    ctx.settings.reset(args.key)
    return 0
