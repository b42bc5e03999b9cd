"""Helpers shared by subcommands: JSON output, stdin secrets, argument types."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable
from decimal import Decimal
from typing import Any, Protocol

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import UsageError


class Handler(Protocol):
    def __call__(self, ctx: AppContext, args: argparse.Namespace) -> int: ...


SubParsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_command(
    subparsers: Any, name: str, handler: Callable[[AppContext, argparse.Namespace], int], help: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(name, help=help, description=help)
    parser.set_defaults(func=handler)
    return parser


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document on stdout")


def _default(obj: Any) -> Any:
    if isinstance(obj, dt.datetime | dt.date):
        return obj.isoformat()
    if isinstance(obj, Decimal):
        return str(obj)
    if hasattr(obj, "__dataclass_fields__"):
        import dataclasses

        return dataclasses.asdict(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def read_secret(prompt: str) -> str:
    """Read a secret from stdin when piped, else from a hidden prompt; never from argv."""
    if not sys.stdin.isatty():
        value = sys.stdin.readline().strip()
    else:
        import getpass

        value = getpass.getpass(prompt)
    if not value:
        raise UsageError("no key was given on standard input or at the prompt")
    return value


def parse_date(text: str) -> dt.datetime:
    try:
        d = dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {text!r} (use YYYY-MM-DD)") from None
    return d if d.tzinfo else d.replace(tzinfo=dt.UTC)


DB_INT_MAX = 2**63 - 1  # the largest id or count SQLite's and MySQL's BIGINT columns hold


def _whole_number(text: str, minimum: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{what} must be a whole number, got {text[:40]!r}") from None
    if not minimum <= value <= DB_INT_MAX:
        raise argparse.ArgumentTypeError(f"{what} must be between {minimum} and {DB_INT_MAX}, got {text[:40]}")
    return value


def record_id(text: str) -> int:
    """An id argument (session, message, fact): a positive number a database column can hold.

    Why: 99999999999999999999 reached the SQLite driver and came back as OverflowError, shown
    as an 'unexpected failure' and filed as a bug (issue #14)."""
    return _whole_number(text, 1, "an id")


def row_count(text: str) -> int:
    """``--limit`` / ``--offset``: zero or more, and no larger than a database integer."""
    return _whole_number(text, 0, "a count")


def session_key(raw: str | None) -> int | str | None:
    """``--session``: a positive id, or a session uid (a session started offline)."""
    if raw is None:
        return None
    raw = raw.strip()
    if raw.isdigit():
        value = int(raw)
        if 0 < value < 2**63:
            return value
    elif SESSION_UID.fullmatch(raw):
        return raw.lower()
    raise UsageError(f"--session must be a session id (a positive number) or a session uid, got {raw[:60]}",
                     hint="list sessions with `synthbot-desktop history list`, or omit --session")


SESSION_UID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


