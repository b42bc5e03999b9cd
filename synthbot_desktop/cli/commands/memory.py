"""`synthbot-desktop memory list|add|forget ID|clear`: the facts kept for this user across sessions (issue #16)."""

from __future__ import annotations

import argparse
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json, record_id
from synthbot_desktop.errors import UsageError


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "memory", lambda ctx, args: args.mfunc(ctx, args),
                    "facts the assistant remembers for you across sessions")
    sub = p.add_subparsers(dest="memory_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="list remembered facts")
    add_json_flag(ls)
    ls.set_defaults(mfunc=_list)
    a = sub.add_parser("add", help="remember a fact")
    a.add_argument("text", help="the fact, e.g. 'My cat is called Mia.'")
    add_json_flag(a)
    a.set_defaults(mfunc=_add)
    f = sub.add_parser("forget", help="delete one fact by its ID")
    f.add_argument("id", type=record_id)
    add_json_flag(f)
    f.set_defaults(mfunc=_forget)
    c = sub.add_parser("clear", help="delete all of your facts")
    add_json_flag(c)
    c.set_defaults(mfunc=_clear)


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.storage import memory

    with ctx.db.session() as s:
        rows = [{"id": f.id, "content": f.content, "source": f.source, "created_at": f.created_at}
                for f in memory.list_facts(s, ctx.user_id)]
    if args.json:
        print_json({"facts": rows})
    elif not rows:
        print("no remembered facts")
    else:
        for r in rows:
            print(f"{r['id']:>5}  {r['content']}")
    return 0


def _add(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.storage import memory

    try:
        with ctx.db.session() as s:
            fact = memory.add(s, ctx.user_id, args.text)
            fid = fact.id
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print_json({"id": fid}) if args.json else print(f"remembered fact {fid}")
    return 0


def _forget(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.storage import memory

    with ctx.db.session() as s:
        ok = memory.forget(s, ctx.user_id, args.id)
    if not ok:
        raise UsageError(f"no remembered fact with ID {args.id}", hint="see `synthbot-desktop memory list`")
    print_json({"forgotten": args.id}) if args.json else print(f"forgot fact {args.id}")
    return 0


def _clear(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.storage import memory

    with ctx.db.session() as s:
        n = memory.clear(s, ctx.user_id)
    print_json({"cleared": n}) if args.json else print(f"forgot {n} fact(s)")
    return 0
