"""`synthbot-desktop mcp add|list|tools|remove|enable|disable`: the MCP servers whose tools the assistant may use (#16).

Servers are kept in ``mcp_servers.json`` in the config directory. ``add NAME -- COMMAND [ARGS...]``
adds a stdio server, ``add NAME --url URL`` a streamable-HTTP one (validated, env values kept in
the OS keyring: ``services.mcp_servers``, which Settings → Tools uses too). ``tools`` starts the servers
(each bounded by ``tools.mcp.start_timeout_s``) and lists what they offer; a server that fails is
reported with its stderr tail and the command exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.common import add_command, add_json_flag, print_json
from synthbot_desktop.errors import UsageError
from synthbot_desktop.redaction import redact


class _CommandAfterDashes(argparse.ArgumentParser):
    """Everything after the first ``--`` is the server's command line, wherever the options are:
    argparse alone binds the (empty) command when it meets NAME, so ``add NAME --env K=V -- CMD``
    would be rejected as unrecognized arguments."""

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        if "--" not in argv or not any(a.dest == "server_command" for a in self._actions):
            return super().parse_known_args(argv, namespace)
        cut = argv.index("--")
        ns, extras = super().parse_known_args(argv[:cut], namespace)
        ns.server_command = argv[cut + 1:]
        return ns, extras


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "mcp", lambda ctx, args: args.mcpfunc(ctx, args),
                    "MCP servers whose tools the assistant can use")
    sub = p.add_subparsers(dest="mcp_command", metavar="ACTION", required=True, parser_class=_CommandAfterDashes)
    a = sub.add_parser("add", help="add a server: NAME -- COMMAND [ARGS...], or NAME --url URL")
    a.add_argument("name", help="a short name (letters, digits, - and _); its tools are offered as NAME__tool")
    a.add_argument("--url", help="a streamable-HTTP server's endpoint, e.g. http://127.0.0.1:8000/mcp")
    a.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="an environment variable for a stdio server (repeatable; the value is kept in the OS "
                        "keyring, the server list keeps only a reference)")
    a.add_argument("--replace", action="store_true", help="replace a server of the same name")
    a.add_argument("server_command", nargs="*", metavar="command",
                   help="after --: the program and its arguments")  # not dest "command": the top-level parser owns it
    add_json_flag(a)
    a.set_defaults(mcpfunc=_add)
    ls = sub.add_parser("list", help="list the configured servers")
    add_json_flag(ls)
    ls.set_defaults(mcpfunc=_list)
    t = sub.add_parser("tools", help="start the servers and list their tools")
    t.add_argument("name", nargs="?", help="only this server")
    add_json_flag(t)
    t.set_defaults(mcpfunc=_tools)
    r = sub.add_parser("remove", help="remove a server")
    r.add_argument("name")
    add_json_flag(r)
    r.set_defaults(mcpfunc=_remove)
    for action, text in (("enable", "start this server again when a conversation needs it"),
                         ("disable", "keep this server configured but never start it")):
        e = sub.add_parser(action, help=text)
        e.add_argument("name")
        add_json_flag(e)
        e.set_defaults(mcpfunc=_switch)


def _add(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.services import mcp_servers

    added = mcp_servers.add_server(ctx, args.name, command=args.server_command, url=args.url,
                                   env=mcp_servers.parse_env(args.env), replace=args.replace)
    if args.json:
        print_json({"added": mcp_servers.summary(added)})
    else:
        kept = f"; env {', '.join(added.env_names())} kept in the keyring" if added.env_refs else ""
        print(f"added MCP server {added.name} ({added.transport}){kept}; it starts when a conversation needs it",
              file=sys.stderr)
    return 0


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.services import mcp_servers

    servers = mcp_servers.list_servers(ctx)
    if args.json:  # env names only: the values may be secrets
        print_json({"servers": [mcp_servers.summary(c) for c in servers.values()]})
        return 0
    if not servers:
        print("no MCP servers (add one with `synthbot-desktop mcp add NAME -- COMMAND`)", file=sys.stderr)
    for c in servers.values():
        env = f"  env: {', '.join(c.env_names())}" if c.env_names() else ""
        state = "" if c.enabled else "  (disabled)"
        print(f"{c.name:<16} {c.transport:<6} {redact(c.describe())}{env}{state}")
    return 0


def _tools(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.tools.mcp_client import load_servers, manager_for, tool_name

    servers = load_servers(ctx.paths.config_dir)
    if args.name is not None:
        if args.name not in servers:
            raise UsageError(f"there is no MCP server named {args.name!r}", hint="see `synthbot-desktop mcp list`")
        servers = {args.name: servers[args.name]}
    off = [n for n, c in servers.items() if not c.enabled]  # listed, never started
    manager = manager_for(ctx, servers)

    async def go() -> list[dict[str, Any]]:
        try:
            await manager.start_all()
            return [{"name": n, "status": srv.status, "error": srv.error,
                     "tools": [{"name": tool_name(n, t.name), "mcp_name": t.name,
                                "description": (t.description or "").strip()} for t in srv.tools]}
                    for n, srv in manager.servers.items()]
        finally:
            await manager.aclose()

    report = asyncio.run(go()) + [{"name": n, "status": "disabled", "error": None, "tools": []} for n in off]
    if args.json:
        print_json({"servers": report})
    else:
        if not report:
            print("no MCP servers configured", file=sys.stderr)
        for srv in report:
            if srv["status"] == "disabled":
                print(f"{srv['name']}: disabled (`synthbot-desktop mcp enable {srv['name']}`)", file=sys.stderr)
                continue
            if srv["status"] != "ready":
                print(f"{srv['name']}: failed: {srv['error']}", file=sys.stderr)
                continue
            print(f"{srv['name']}: {len(srv['tools'])} tools")
            for t in srv["tools"]:
                print(f"  {t['name']:<32} {t['description'][:80]}")
    return 1 if any(srv["status"] not in ("ready", "disabled") for srv in report) else 0


def _remove(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.services import mcp_servers

    mcp_servers.remove_server(ctx, args.name)
    if args.json:
        print_json({"removed": args.name})
    else:
        print(f"removed MCP server {args.name}", file=sys.stderr)
    return 0


def _switch(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.services import mcp_servers

    changed = mcp_servers.set_enabled(ctx, args.name, args.mcp_command == "enable")
    if args.json:
        print_json({"server": mcp_servers.summary(changed)})
    else:
        print(f"MCP server {changed.name} {'enabled' if changed.enabled else 'disabled'}", file=sys.stderr)
    return 0
