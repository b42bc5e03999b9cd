"""`synthbot-desktop config list|get|set|reset`: the settings registry from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.config import REGISTRY
from synthbot_desktop.errors import SynthbotError, UsageError
from synthbot_desktop.storage.db import masked, parse_url


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


def _shown(key: str, value: Any) -> Any:
    """What a setting looks like in output: database URLs never show a password."""
    if key == "database.url" and value:
        try:
            return masked(str(value))
        except SynthbotError:
            return "(not a valid database URL)"
    return value


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    s = ctx.settings
    rows = [{"key": k, "value": _shown(k, s.get(k)), "source": s.source(k), "locked": s.is_locked(k),
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
    print(_shown(args.key, ctx.settings.get(args.key)))
    return 0


def _set(ctx: AppContext, args: argparse.Namespace) -> int:
    _check(args.key)
    value = args.value
    if args.key == "database.url" and value.strip():
        value = _password_to_keyring(ctx, value.strip())
    ctx.settings.set(args.key, value, from_text=True)
    return 0


def _password_to_keyring(ctx: AppContext, url: str) -> str:
    """A password in the URL goes to the keyring; the file gets the URL without it."""
    parsed = parse_url(url)  # validates and registers the password for redaction
    if not parsed.password:
        return url
    if parsed.get_backend_name() == "sqlite" or not parsed.username:
        raise UsageError("a password in this database URL cannot be stored safely",
                         hint="give a user name, or remove the password from the URL")
    ctx.keystore.set_db_password(parsed.username, parsed.host or "localhost", parsed.port,
                                 str(parsed.password))
    sys.stderr.write("the database password was moved to the keyring; the settings file keeps "
                     "the URL without it\n")
    return parsed._replace(password=None).render_as_string(hide_password=False)


def _reset(ctx: AppContext, args: argparse.Namespace) -> int:
    _check(args.key)
    ctx.settings.reset(args.key)
    return 0
