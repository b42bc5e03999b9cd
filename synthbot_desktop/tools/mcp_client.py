"""MCP servers the user configured, as tools for the model (official ``mcp`` SDK, 2.x).

Servers are stored in ``mcp_servers.json`` in the config directory (``synthbot-desktop mcp add``,
Settings → Tools; both through ``services.mcp_servers``): a stdio server is a command with
arguments and environment variables, a streamable-HTTP server a URL; a server can be switched off
(``"enabled": false``) without losing it. Environment values may be secrets, so the file keeps only
a reference to an OS keyring entry (``{"keyring": "mcp:NAME:KEY"}``), resolved when the server
starts; a plain string (written by older versions) still works and is moved to the keyring the next
time the list is saved. A
:class:`McpManager` belongs to one event loop (the CLI's run, or the window's engine loop): it
starts each server on first use (listing tools), keeps the session open, and stops every server
in :meth:`McpManager.aclose` (the app closing).

Nothing a server does may hang a turn: start-up is bounded (``tools.mcp.start_timeout_s``), every
call is bounded by the registry's timeout, and a server that exits, crashes or writes garbage on
stdout is marked ``failed`` with the tail of its stderr; its tools are simply not offered.

SDK naming: 1.x called the server class ``FastMCP`` (``mcp.server.fastmcp``); 2.x renamed it
``MCPServer`` (``mcp.server.mcpserver``). The client side used here (``ClientSession``,
``stdio_client``, ``streamable_http_client``) exists in both lines; 2.x's streamable client is
``streamable_http_client`` (1.x: ``streamablehttp_client``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from synthbot_desktop.errors import ConfigError, SynthbotError, UsageError
from synthbot_desktop.redaction import redact
from synthbot_desktop.tools.registry import Tool

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)
# The SDK logs transport faults with tracebacks; McpServer reports each failure once, in one line
# with the server's stderr tail, so the SDK's own records would only put tracebacks on stderr.
logging.getLogger("mcp").setLevel(logging.CRITICAL)

CONFIG_NAME = "mcp_servers.json"
NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
STDERR_TAIL = 600  # characters of a failed server's stderr kept for the user


@dataclass
class ServerConfig:
    name: str
    command: str | None = None  # stdio: the program ...
    args: list[str] = field(default_factory=list)  # ... and its arguments
    url: str | None = None  # streamable HTTP
    env: dict[str, str] = field(default_factory=dict)  # plain values: older files, or not yet stored
    env_refs: dict[str, str] = field(default_factory=dict)  # KEY -> keyring entry holding its value
    enabled: bool = True

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"

    def describe(self) -> str:
        return " ".join([self.command or "", *self.args]).strip() if self.command else str(self.url)

    def env_names(self) -> list[str]:
        return sorted({*self.env, *self.env_refs})


SecretLookup = Callable[[str], "str | None"]  # a keyring entry's value (KeyStore.get_entry)


# Stored servers ----------------------------------------------------------------------------------
def config_path(config_dir: Path) -> Path:
    return config_dir / CONFIG_NAME


def load_servers(config_dir: Path) -> dict[str, ServerConfig]:
    path = config_path(config_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read the MCP server list ({type(exc).__name__})", path=str(path),
                          hint="fix the file or remove it and add the servers again") from None
    servers = data.get("servers") if isinstance(data, dict) else None
    if not isinstance(servers, dict):
        raise ConfigError("the MCP server list has no 'servers' table", path=str(path))
    out: dict[str, ServerConfig] = {}
    for name, raw in servers.items():
        if not isinstance(raw, dict) or not (raw.get("command") or raw.get("url")):
            raise ConfigError(f"MCP server {name!r} needs a command or a url", path=str(path))
        plain: dict[str, str] = {}
        refs: dict[str, str] = {}
        for key, value in (raw.get("env") or {}).items():
            if isinstance(value, dict) and isinstance(value.get("keyring"), str):
                refs[str(key)] = value["keyring"]
            elif isinstance(value, dict):
                raise ConfigError(f"MCP server {name!r}: env {key!r} is neither a value nor a keyring reference",
                                  path=str(path))
            else:
                plain[str(key)] = str(value)  # written by an older version: moved to the keyring on save
        out[name] = ServerConfig(name, raw.get("command"), [str(a) for a in raw.get("args") or []],
                                 raw.get("url"), plain, refs, raw.get("enabled", True) is not False)
    return out


def save_servers(config_dir: Path, servers: dict[str, ServerConfig]) -> None:
    path = config_path(config_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"servers": {n: _stored(c) for n, c in servers.items()}}
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)


def _stored(c: ServerConfig) -> dict[str, Any]:
    """One server as the file keeps it: keyring references for env values (plain ones only where
    the keyring could not take them), ``enabled`` only when switched off."""
    out = {k: v for k, v in asdict(c).items() if k in ("command", "args", "url") and v}
    env: dict[str, Any] = dict(c.env)
    env.update({k: {"keyring": ref} for k, ref in c.env_refs.items()})
    if env:
        out["env"] = dict(sorted(env.items()))
    if not c.enabled:
        out["enabled"] = False
    return out


def check_name(name: str) -> str:
    if not NAME_RE.match(name) or "__" in name:
        raise UsageError(f"not a usable MCP server name: {name!r}",
                         hint="use up to 32 letters, digits, - or _ (no double underscore)")
    return name


def tool_name(server: str, tool: str) -> str:
    """``server__tool``, in the characters every provider accepts (64 at most)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{server}__{tool}")[:64]


# One server ---------------------------------------------------------------------------------------
class McpServer:
    """One running (or failed) server: its session lives in one task from start to stop, as the
    SDK's task groups require."""

    def __init__(self, config: ServerConfig, *, start_timeout_s: float = 15.0, call_timeout_s: float = 20.0,
                 secrets: SecretLookup | None = None) -> None:
        self.config = config
        self.secrets = secrets
        self.start_timeout_s = start_timeout_s
        self.call_timeout_s = call_timeout_s
        self.status = "stopped"  # stopped | starting | ready | failed
        self.error: str | None = None
        self.tools: list[Any] = []  # mcp Tool definitions
        self._session: Any = None
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._stderr: Any = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Start once; returns when ready or failed (never raises, never waits past the timeout)."""
        async with self._lock:
            if self.status in ("ready", "failed"):
                return
            self.status = "starting"
            self._ready.clear()
            self._stop.clear()
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"mcp:{self.config.name}")
            try:
                await asyncio.wait_for(asyncio.shield(self._ready.wait()), self.start_timeout_s)
            except TimeoutError:
                self._fail(f"did not start within {self.start_timeout_s:g} s")
            if self.status == "failed":
                await self._end_task()

    async def _run(self) -> None:
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                if self.config.command:
                    from mcp.client.stdio import StdioServerParameters, stdio_client

                    if self._stderr is None:  # kept until stop(): a later failure still shows it
                        self._stderr = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
                    env = await self._environment()
                    params = StdioServerParameters(command=self.config.command, args=self.config.args,
                                                   env=env or None, encoding_error_handler="replace")
                    read, write = await stack.enter_async_context(stdio_client(params, errlog=self._stderr))
                else:
                    from mcp.client.streamable_http import streamable_http_client

                    read, write = await stack.enter_async_context(streamable_http_client(str(self.config.url)))
                session = await stack.enter_async_context(ClientSession(
                    read, write, message_handler=self._on_message))  # start-up: bounded by start()
                await session.initialize()
                listed = await session.list_tools()
                self.tools = list(listed.tools)
                self._session = session
                self.status = "ready"
                self._ready.set()
                await self._stop.wait()
        except asyncio.CancelledError:
            if self.status == "starting":
                self._fail("start-up was cancelled")
            raise
        except Exception as exc:  # anyio wraps failures in exception groups: the first leaf is shown
            self._fail(_reason(exc))
        finally:
            self._session = None
            if self.status == "ready":
                self.status = "stopped"
            self._ready.set()

    async def _environment(self) -> dict[str, str]:
        """The server's env: plain values plus those kept in the keyring (read off the loop: a
        Secret Service call may wait on D-Bus). A missing value fails the start with its name."""
        env = dict(self.config.env)
        refs = self.config.env_refs
        if not refs:
            return env
        if self.secrets is None:
            raise SynthbotError(f"its environment ({', '.join(sorted(refs))}) is in the keyring, which is not open here")
        lookup = self.secrets
        values = await asyncio.to_thread(lambda: {k: lookup(ref) for k, ref in refs.items()})
        missing = sorted(k for k, v in values.items() if v is None)
        if missing:
            raise SynthbotError(f"the keyring has no value for its environment variable {', '.join(missing)} "
                                "(add the server again with that --env)")
        env.update({k: v for k, v in values.items() if v is not None})
        return env

    async def _on_message(self, message: Any) -> None:
        """Transport faults arrive here: a line on stdout that is not JSON-RPC means the server
        (or something it runs) writes garbage on its protocol channel. Fail at once, rather than
        waiting out the start-up timeout or letting a later call hang on a confused stream."""
        if isinstance(message, Exception):
            self._fail(f"it wrote something that is not MCP on stdout ({type(message).__name__})")
            self._stop.set()

    def _fail(self, reason: str) -> None:
        if self.status == "failed":
            return
        tail = self.stderr_tail()
        self.status = "failed"
        self.error = redact(reason + (f"; stderr: {tail}" if tail else ""))
        self._session = None
        log.warning("MCP server %s failed: %s", self.config.name, self.error)
        self._ready.set()

    def stderr_tail(self) -> str:
        f = self._stderr
        if f is None:
            return ""
        try:
            f.flush()
            f.seek(0)
            text = f.read()
        except (OSError, ValueError):
            return ""
        return " ".join(text.split())[-STDERR_TAIL:]

    async def call(self, name: str, arguments: dict[str, Any]) -> str:
        """Run one tool; a tool error raises (the registry turns it into an error result)."""
        session = self._session
        if session is None or self.status != "ready":
            raise SynthbotError(f"MCP server {self.config.name} is not running ({self.error or self.status})")
        try:
            result = await session.call_tool(name, arguments, read_timeout_seconds=self.call_timeout_s)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if self._task is None or self._task.done() or _connection_lost(exc):
                self._fail(f"the connection was lost ({_reason(exc)})")
                await self._end_task()
            raise SynthbotError(f"MCP tool {name} failed: {_reason(exc)}") from None
        text = _result_text(result)
        if getattr(result, "isError", False) or getattr(result, "is_error", False):
            raise SynthbotError(text or f"MCP tool {name} reported an error")
        return text

    async def _end_task(self) -> None:
        """Stop the session task: politely (it leaves its ``_stop`` wait), else by cancelling it
        (a server stuck in start-up never reaches that wait). The SDK shields its own shutdown,
        so the process is still terminated."""
        self._stop.set()
        task = self._task
        if task is not None and not task.done():
            grace = 2.0 if self.status == "ready" else 0.2
            try:
                await asyncio.wait_for(asyncio.shield(task), grace)
            except (TimeoutError, Exception):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await asyncio.wait_for(task, 10.0)

    async def stop(self) -> None:
        await self._end_task()
        if self.status != "failed":
            self.status = "stopped"
        if self._stderr is not None:
            with contextlib.suppress(OSError):
                self._stderr.close()
            self._stderr = None


def _reason(exc: BaseException) -> str:
    leaves = list(_leaves(exc))
    first = leaves[0] if leaves else exc
    text = str(first).strip()
    return f"{type(first).__name__}: {text}"[:300] if text else type(first).__name__


def _leaves(exc: BaseException) -> Any:
    if isinstance(exc, BaseExceptionGroup):
        for e in exc.exceptions:
            yield from _leaves(e)
    else:
        yield exc


def _connection_lost(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("closed", "connection", "broken", "eof")) or isinstance(
        exc, ConnectionError | EOFError)


def _result_text(result: Any) -> str:
    parts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", None)
        if kind == "text":
            parts.append(str(getattr(block, "text", "")))
        elif kind is not None:
            parts.append(f"[{kind} content]")
    if not parts:
        structured = getattr(result, "structuredContent", None) or getattr(result, "structured_content", None)
        if structured is not None:
            return json.dumps(structured, ensure_ascii=False, default=str)
    return "\n".join(parts)


# All servers ---------------------------------------------------------------------------------------
class McpManager:
    """The configured servers for one event loop: a tool source for :class:`ToolRegistry`."""

    def __init__(self, configs: dict[str, ServerConfig], *, start_timeout_s: float = 15.0,
                 call_timeout_s: float = 20.0, secrets: SecretLookup | None = None) -> None:
        # A switched-off server is kept in the file but never started here.
        self.servers = {n: McpServer(c, start_timeout_s=start_timeout_s, call_timeout_s=call_timeout_s,
                                     secrets=secrets)
                        for n, c in configs.items() if c.enabled}
        self.call_timeout_s = call_timeout_s

    async def start_all(self) -> None:
        await asyncio.gather(*(s.start() for s in self.servers.values()))

    async def list_tools(self) -> list[Tool]:
        """Every ready server's tools as registry tools (starting servers not yet started)."""
        await self.start_all()
        out: list[Tool] = []
        for server in self.servers.values():
            if server.status != "ready":
                continue
            for t in server.tools:
                out.append(self._tool(server, t))
        return out

    def _tool(self, server: McpServer, t: Any) -> Tool:
        remote = str(t.name)

        async def handler(**arguments: Any) -> str:
            return await server.call(remote, arguments)

        schema = getattr(t, "inputSchema", None) or getattr(t, "input_schema", None) or {"type": "object"}
        description = f"[{server.config.name}] {getattr(t, 'description', None) or remote}"[:1024]
        return Tool(tool_name(server.config.name, remote), description, dict(schema), handler,
                    timeout_s=self.call_timeout_s)

    async def aclose(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.servers.values()), return_exceptions=True)


def open_mcp(ctx: AppContext) -> McpManager | None:
    """A manager for the stored servers (None when there are none or MCP is switched off).
    Nothing starts until the first turn lists the tools."""
    s = ctx.settings
    if not s.get_bool("tools.enabled") or not s.get_bool("tools.mcp.enabled"):
        return None
    try:
        configs = load_servers(ctx.paths.config_dir)
    except ConfigError as exc:
        log.warning("MCP servers not loaded: %s", exc.one_line())
        return None
    if not any(c.enabled for c in configs.values()):
        return None
    return manager_for(ctx, configs)


def manager_for(ctx: AppContext, configs: dict[str, ServerConfig]) -> McpManager:
    """A manager for ``configs`` with this app's timeouts and keyring (env values kept there)."""
    s = ctx.settings
    return McpManager(configs, start_timeout_s=s.get_float("tools.mcp.start_timeout_s"),
                      call_timeout_s=s.get_float("tools.mcp.timeout_s"), secrets=ctx.keystore.get_entry)
