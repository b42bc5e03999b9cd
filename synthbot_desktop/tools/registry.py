"""The tool registry and executor: every way a tool call can go wrong becomes a result for the model.

An unknown tool, malformed arguments, a tool disabled by policy, a side effect the user did not
confirm, a tool that raises and a tool that hangs past its timeout all give the model an error
result (``ToolResult.is_error``) so the turn continues and the model can explain or retry;
cancellation (the user interrupted) propagates and cancels the running tool.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from synthbot_desktop.llm.base import ToolCall
from synthbot_desktop.redaction import redact
from synthbot_desktop.tools.schema import ArgumentsError, parse_arguments

log = logging.getLogger(__name__)

Handler = Callable[..., Any]
Confirm = Callable[["Tool", dict[str, Any]], Awaitable[bool] | bool]
RESULT_LIMIT = 16_000  # characters of a result sent back to the model


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    handler: Handler
    side_effect: bool = False  # asks the user first
    timeout_s: float = 10.0

    def spec(self) -> dict[str, Any]:
        """The provider-neutral definition (name, description, JSON-schema parameters)."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}


@dataclass(frozen=True)
class ToolResult:
    call_id: str
    name: str
    content: str
    is_error: bool = False


@dataclass
class ToolRegistry:
    tools: dict[str, Tool] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)  # policy: these are neither offered nor run
    confirm: Confirm | None = None  # None = side effects are refused
    providers: list[Any] = field(default_factory=list)  # ToolSources (MCP servers): their tools join lazily
    timers: Any = None  # the builtins' Timers, kept alive as long as the conversation

    def add(self, tool: Tool) -> None:
        self.tools[tool.name] = tool

    def extend(self, tools: Iterable[Tool]) -> None:
        for t in tools:
            self.add(t)

    async def refresh(self) -> None:
        """Ask every source (an MCP manager) for its tools; a source that fails offers none.

        Sources start their servers on the first call (lazily) and remember a failure, so this is
        cheap after the first turn and never hangs a turn (each source bounds its own start-up)."""
        for source in self.providers:
            try:
                tools = await source.list_tools()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("tool source %s failed: %s", type(source).__name__, redact(str(exc))[:200])
                continue
            for t in tools:
                if "__" in t.name or t.name not in self.tools:  # server__tool never shadows a built-in
                    self.tools[t.name] = t

    async def aclose(self) -> None:
        """The conversation ends: stop timers still pending and every tool source (MCP servers)."""
        if self.timers is not None:
            self.timers.cancel_all()
        for source in self.providers:
            try:
                await source.aclose()
            except Exception as exc:  # closing is best effort; one server must not keep others running
                log.warning("closing tool source %s failed: %s", type(source).__name__, type(exc).__name__)

    def available(self) -> list[Tool]:
        return [t for n, t in sorted(self.tools.items()) if n not in self.disabled]

    async def execute(self, call: ToolCall) -> ToolResult:
        def err(message: str) -> ToolResult:
            return ToolResult(call.id, call.name, f"error: {message}", is_error=True)

        tool = self.tools.get(call.name)
        if tool is None or call.name in self.disabled:
            names = ", ".join(t.name for t in self.available()) or "none"
            return err(f"unknown tool {call.name!r}; available: {names}")
        try:
            args = parse_arguments(call.arguments, tool.parameters)
        except ArgumentsError as exc:
            return err(str(exc))
        if tool.side_effect:
            allowed = False
            if self.confirm is not None:
                answer = self.confirm(tool, args)
                allowed = bool(await answer) if inspect.isawaitable(answer) else bool(answer)
            if not allowed:
                return err(f"the user did not allow {tool.name}; do not retry it unless they ask")
        try:
            value = await asyncio.wait_for(_call(tool.handler, args), timeout=tool.timeout_s)
        except TimeoutError:
            return err(f"{tool.name} did not finish within {tool.timeout_s:g} s")
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a tool's bug is the model's error result, not a lost turn
            log.warning("tool %s raised %s", tool.name, type(exc).__name__)
            return err(f"{tool.name} failed: {redact(str(exc))[:300] or type(exc).__name__}")
        return ToolResult(call.id, call.name, _text(value)[:RESULT_LIMIT])


async def _call(handler: Handler, args: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(handler):
        return await handler(**args)
    # sync tools (clipboard, open) run off the event loop so a slow one cannot stall audio
    return await asyncio.to_thread(handler, **args)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    import json

    return json.dumps(value, ensure_ascii=False, default=str)
