"""Adding, removing and switching MCP servers: one set of rules for `mcp add|remove|enable|disable`
and Settings → Tools (the GUI and the CLI only collect the fields and show the errors).

Validation happens before anything is written, each failure one clear line (an unusable name, a
stdio command that is not found, a URL that is not http(s), an env entry that is not KEY=VALUE, a
name already taken). Environment values may be API keys, so they go into the OS keyring (the
project's :mod:`~synthbot_desktop.keystore`, entry ``mcp:NAME:KEY``) and ``mcp_servers.json``
keeps only the reference; with no keyring, adding a server with env values fails and says why,
rather than writing them in plain text. Plain values written by older versions keep working and
are moved to the keyring whenever the list is saved (left as they were, with a warning naming the
server but never the value, when no keyring can take them).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbot_desktop.errors import SecretStoreError, UsageError
from synthbot_desktop.redaction import redact
from synthbot_desktop.tools.mcp_client import ServerConfig, check_name, load_servers, save_servers

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)
ENV_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def secret_ref(server: str, key: str) -> str:
    """The keyring entry that holds env ``key`` of ``server``."""
    return f"mcp:{server}:{key}"


def parse_env(items: Iterable[str]) -> dict[str, str]:
    """``KEY=VALUE`` entries (the value may contain ``=``; an empty value is allowed)."""
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:  # the text is not echoed: it may be a bare secret
            raise UsageError("an environment entry needs KEY=VALUE (one has no '=' or no name)")
        if not ENV_KEY_RE.match(key):
            raise UsageError(f"not a usable environment variable name: {key!r}",
                             hint="use letters, digits and _ (not starting with a digit)")
        env[key] = value
    return env


def resolve_command(command: str) -> str:
    """``command`` if it can be run: a program on PATH, or a path to an executable file."""
    if os.sep in command or (os.altsep and os.altsep in command):
        path = Path(command).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return command
        raise UsageError(f"command not found: {command}" if not path.exists() else f"not an executable file: {command}",
                         hint="give the full path of the server's program")
    if shutil.which(command) is None:
        raise UsageError(f"command not found: {command}",
                         hint="install it, or give its full path (it must be on PATH for this app)")
    return command


def list_servers(ctx: AppContext) -> dict[str, ServerConfig]:
    return load_servers(ctx.paths.config_dir)


def add_server(ctx: AppContext, name: str, *, command: Sequence[str] = (), url: str | None = None,
               env: dict[str, str] | None = None, replace: bool = False, enabled: bool = True) -> ServerConfig:
    """Validate and store one server (its env values in the keyring); returns what was stored."""
    name = check_name(name.strip())
    command = list(command)
    if command and command[0] == "--":
        command = command[1:]
    url = (url or "").strip() or None
    if bool(command) == bool(url):
        raise UsageError("give either a command (stdio) or a URL (streamable HTTP), not both or neither",
                         hint="e.g. synthbot-desktop mcp add files -- npx -y @modelcontextprotocol/server-filesystem ~")
    env = dict(env or {})
    if url is not None:
        if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1].strip("/")) == 0:
            raise UsageError(f"not an http(s) URL: {url!r}", hint="e.g. http://127.0.0.1:8000/mcp")
        if env:
            raise UsageError("environment variables apply to a stdio server only")
    else:
        resolve_command(command[0])
    for key in env:
        parse_env([f"{key}=x"])  # the same name rules as --env
    servers = load_servers(ctx.paths.config_dir)
    if name in servers and not replace:
        raise UsageError(f"there already is an MCP server named {name!r}",
                         hint="replace it, or remove it first")
    old = servers.get(name)
    refs: dict[str, str] = {}
    if env:
        store = ctx.keystore
        for key, value in env.items():  # before the file: a failure leaves the old list intact
            store.set_entry(secret_ref(name, key), value)
            refs[key] = secret_ref(name, key)
    config = ServerConfig(name, command[0] if command else None, command[1:], url, {}, refs, enabled)
    servers[name] = config
    _save(ctx, servers)
    if old is not None:
        _forget_secrets(ctx, old, keep=set(refs.values()))
    return config


def remove_server(ctx: AppContext, name: str) -> ServerConfig:
    servers = load_servers(ctx.paths.config_dir)
    if name not in servers:
        raise UsageError(f"there is no MCP server named {name!r}", hint="see `synthbot-desktop mcp list`")
    gone = servers.pop(name)
    _save(ctx, servers)
    _forget_secrets(ctx, gone)
    return gone


def set_enabled(ctx: AppContext, name: str, enabled: bool) -> ServerConfig:
    """Switch a server on or off; an off server stays configured but is never started."""
    servers = load_servers(ctx.paths.config_dir)
    if name not in servers:
        raise UsageError(f"there is no MCP server named {name!r}", hint="see `synthbot-desktop mcp list`")
    servers[name].enabled = enabled
    _save(ctx, servers)
    return servers[name]


def summary(c: ServerConfig) -> dict[str, Any]:
    """What `mcp list` and the Tools page show: env names only, never values."""
    return {"name": c.name, "transport": c.transport, "command": redact(c.describe()),
            "env": c.env_names(), "enabled": c.enabled}


def keyring_entries(ctx: AppContext) -> list[str]:
    """Every keyring entry the MCP server list refers to (for `data delete-all`)."""
    try:
        servers = load_servers(ctx.paths.config_dir)
    except Exception:  # an unreadable list refers to nothing we can name
        return []
    return sorted({ref for c in servers.values() for ref in c.env_refs.values()})


def _save(ctx: AppContext, servers: dict[str, ServerConfig]) -> None:
    """Write the list, first moving any plain env value (an older file's) into the keyring."""
    for config in servers.values():
        if not config.env:
            continue
        try:
            store = ctx.keystore
            for key, value in list(config.env.items()):
                store.set_entry(secret_ref(config.name, key), value)
                config.env_refs[key] = secret_ref(config.name, key)
                del config.env[key]
        except SecretStoreError as exc:
            log.warning("MCP server %s: its environment values stay in plain text in the server list "
                        "(the keyring cannot take them: %s)", config.name, exc.one_line())
    save_servers(ctx.paths.config_dir, servers)


def _forget_secrets(ctx: AppContext, config: ServerConfig, keep: frozenset[str] | set[str] = frozenset()) -> None:
    for ref in config.env_refs.values():
        if ref in keep:
            continue
        try:
            ctx.keystore.delete_entry(ref)
        except SecretStoreError:
            log.warning("MCP server %s: a keyring entry could not be removed", config.name)
