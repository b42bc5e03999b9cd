"""`synthbot-desktop keys set|list|delete PROVIDER`: the key is read from stdin or a hidden prompt."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json, read_secret
from synthbot_desktop.config import KEYED_PROVIDERS
from synthbot_desktop.errors import DatabaseError, UsageError
from synthbot_desktop.services import error_reports
from synthbot_desktop.storage import repositories as repo


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "keys", _usage, "API keys in the OS keyring")
    sub = parser.add_subparsers(dest="keys_command", metavar="ACTION")
    s = add_command(sub, "set", _set, "store a key (read from stdin or a hidden prompt, never argv)")
    s.add_argument("provider", choices=KEYED_PROVIDERS)
    lst = add_command(sub, "list", _list, "which providers have keys (fingerprints only)")
    add_json_flag(lst)
    d = add_command(sub, "delete", _delete, "remove a stored key")
    d.add_argument("provider", choices=KEYED_PROVIDERS)


def _usage(ctx: AppContext, args: argparse.Namespace) -> int:
    raise UsageError("choose an action: keys set PROVIDER | list | delete PROVIDER")


def _remember_fingerprint(ctx: AppContext, provider: str, fp: str) -> None:
    """Record the fingerprint (never the key) so the GUI and doctor can tell keys apart."""
    try:
        with ctx.db.session() as s:
            repo.upsert_api_configuration(s, ctx.user_id, provider, key_fingerprint=fp)
            repo.add_audit(s, "key.set" if fp else "key.delete", user_id=ctx.user_id,
                           entity_type="api_configuration", entity_id=provider, details={"fingerprint": fp})
    except DatabaseError as exc:
        print(f"warning: key stored, but the database could not be updated: {exc.one_line()}", file=sys.stderr)
        error_reports.shown("cli.keys", exc.one_line(), kind=error_reports.kind_of(exc))


def _set(ctx: AppContext, args: argparse.Namespace) -> int:
    secret = read_secret(f"{args.provider} API key (input hidden): ")
    fp = ctx.keystore.set(args.provider, secret)
    _remember_fingerprint(ctx, args.provider, fp)
    print(f"stored the {args.provider} key ({fp}) in {ctx.keystore.backend_name()}", file=sys.stderr)
    return 0


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    infos = ctx.keystore.list()
    if args.json:
        print_json([{"provider": i.provider, "fingerprint": i.fingerprint, "source": i.source} for i in infos])
    else:
        for i in infos:
            print(f"{i.provider:<11} {i.fingerprint or '-':<20} {i.source}")
    return 0


def _delete(ctx: AppContext, args: argparse.Namespace) -> int:
    if not ctx.keystore.delete(args.provider):
        print(f"no {args.provider} key was stored", file=sys.stderr)
        return 1
    _remember_fingerprint(ctx, args.provider, "")
    print(f"deleted the {args.provider} key", file=sys.stderr)
    return 0
