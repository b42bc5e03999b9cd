"""`synthbot-desktop mcp add|list|tools|remove`: the MCP servers whose tools the assistant may use (#16).

Servers are kept in ``mcp_servers.json`` in the config directory. ``add NAME -- COMMAND [ARGS...]``
adds a stdio server, ``add NAME --url URL`` a streamable-HTTP one. ``tools`` starts the servers
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
from synthbot_desktop.setting_keys import TOOLS_MCP_START_TIMEOUT_S, TOOLS_MCP_TIMEOUT_S


def register(subparsers: Any) -> None:
    p = add_command(subparsers, "mcp", lambda ctx, args: args.mcpfunc(ctx, args),
                    "MCP servers whose tools the assistant can use")
    sub = p.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    a = sub.add_parser("add", help="add a server: NAME -- COMMAND [ARGS...], or NAME --url URL")
    a.add_argument("name", help="a short name (letters, digits, - and _); its tools are offered as NAME__tool")
    a.add_argument("--url", help="a streamable-HTTP server's endpoint, e.g. http://127.0.0.1:8000/mcp")
    a.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                   help="an environment variable for a stdio server (repeatable; stored in the config file)")
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


def _add(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.tools.mcp_client import ServerConfig, check_name, load_servers, save_servers

    name = check_name(args.name)
    command = list(args.server_command)
    if command and command[0] == "--":
        command = command[1:]
    if bool(command) == bool(args.url):
        raise UsageError("give either a command after -- or --url",
                         hint="e.g. synthbot-desktop mcp add files -- npx -y @modelcontextprotocol/server-filesystem ~")
    if args.url and not args.url.startswith(("http://", "https://")):
        raise UsageError(f"not an http(s) URL: {args.url!r}")
    env: dict[str, str] = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UsageError(f"--env needs KEY=VALUE, got {item!r}")
        env[key] = value
    servers = load_servers(ctx.paths.config_dir)
    if name in servers and not args.replace:
        raise UsageError(f"there already is an MCP server named {name!r}",
                         hint="pass --replace, or remove it first with `synthbot-desktop mcp remove`")
    servers[name] = ServerConfig(name, command[0] if command else None, command[1:], args.url, env)
    save_servers(ctx.paths.config_dir, servers)
    if args.json:
        print_json({"added": _summary(servers[name])})
    else:
        print(f"added MCP server {name} ({servers[name].transport}); it starts when a conversation needs it",
              file=sys.stderr)
    return 0


def _summary(c: Any) -> dict[str, Any]:
    return {"name": c.name, "transport": c.transport, "command": redact(c.describe()),
            "env": sorted(c.env)}  # names only: values may be secrets


def _list(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.tools.mcp_client import load_servers

    servers = load_servers(ctx.paths.config_dir)
    if args.json:
        print_json({"servers": [_summary(c) for c in servers.values()]})
        return 0
    if not servers:
        print("no MCP servers (add one with `synthbot-desktop mcp add NAME -- COMMAND`)", file=sys.stderr)
    for c in servers.values():
        print(f"{c.name:<16} {c.transport:<6} {redact(c.describe())}")
    return 0


def _tools(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.tools.mcp_client import McpManager, load_servers, tool_name

    servers = load_servers(ctx.paths.config_dir)
    if args.name is not None:
        if args.name not in servers:
            raise UsageError(f"there is no MCP server named {args.name!r}", hint="see `synthbot-desktop mcp list`")
        servers = {args.name: servers[args.name]}
    s = ctx.settings
    manager = McpManager(servers, start_timeout_s=s.value(TOOLS_MCP_START_TIMEOUT_S),
                         call_timeout_s=s.value(TOOLS_MCP_TIMEOUT_S))

    async def go() -> list[dict[str, Any]]:
        try:
            await manager.start_all()
            return [{"name": n, "status": srv.status, "error": srv.error,
                     "tools": [{"name": tool_name(n, t.name), "mcp_name": t.name,
                                "description": (t.description or "").strip()} for t in srv.tools]}
                    for n, srv in manager.servers.items()]
        finally:
            await manager.aclose()

    report = asyncio.run(go())
    if args.json:
        print_json({"servers": report})
    else:
        if not report:
            print("no MCP servers configured", file=sys.stderr)
        for srv in report:
            if srv["status"] != "ready":
                print(f"{srv['name']}: failed: {srv['error']}", file=sys.stderr)
                continue
            print(f"{srv['name']}: {len(srv['tools'])} tools")
            for t in srv["tools"]:
                print(f"  {t['name']:<32} {t['description'][:80]}")
    return 1 if any(srv["status"] != "ready" for srv in report) else 0


def _remove(ctx: AppContext, args: argparse.Namespace) -> int:
    from synthbot_desktop.tools.mcp_client import load_servers, save_servers

    servers = load_servers(ctx.paths.config_dir)
    if args.name not in servers:
        raise UsageError(f"there is no MCP server named {args.name!r}", hint="see `synthbot-desktop mcp list`")
    del servers[args.name]
    save_servers(ctx.paths.config_dir, servers)
    if args.json:
        print_json({"removed": args.name})
    else:
        print(f"removed MCP server {args.name}", file=sys.stderr)
    return 0
