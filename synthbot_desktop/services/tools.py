"""Which tools a conversation offers, decided once for `chat`, `talk` and the window.

Settings (and the admin policy, which can lock any of them) decide: ``tools.enabled`` switches
tools off entirely, ``tools.<name>.enabled`` and the ``tools.disabled`` list take single tools
away (MCP tools are named ``server__tool``), ``tools.auto_confirm`` lets side-effect tools run
without asking. A front end passes how it asks the user (``confirm``; none = side effects are
refused) and, if it lives long enough for a timer to fire, where timers go (``on_timer``; none =
no ``set_timer`` tool, so a one-shot `chat` never promises a reminder it cannot deliver).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from synthbot_desktop.config import BUILTIN_TOOLS
from synthbot_desktop.tools.registry import Confirm, Tool, ToolRegistry

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)


def disabled_tools(settings: Any) -> set[str]:
    """Names switched off by the user or locked off by the policy."""
    off = {n for n in BUILTIN_TOOLS if not settings.get_bool(f"tools.{n}.enabled")}
    off |= {n.strip() for n in settings.get_str("tools.disabled").split(",") if n.strip()}
    return off


def _always(_tool: Tool, _args: dict[str, Any]) -> bool:
    return True


def event_confirm(sink: Callable[[Any], None], *, timeout_s: float = 60.0) -> Confirm:
    """Ask through the front end's event sink (the window shows a question): the tool waits on the
    engine loop for ``ToolConfirmRequest.answer``; no answer in ``timeout_s`` is a refusal."""
    import asyncio
    import json

    from synthbot_desktop.pipeline.events import ToolConfirmRequest

    async def ask(tool: Tool, args: dict[str, Any]) -> bool:
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[bool] = loop.create_future()

        def reply(ok: bool) -> None:  # from the GUI thread
            def settle() -> None:
                if not answer.done():
                    answer.set_result(bool(ok))

            loop.call_soon_threadsafe(settle)

        sink(ToolConfirmRequest(tool.name, json.dumps(args, ensure_ascii=False)[:300], reply))
        try:
            return await asyncio.wait_for(answer, timeout_s)
        except TimeoutError:
            return False

    return ask


def builtin_tool_list(ctx: AppContext, *, on_timer: Callable[[str], None] | None = None) -> tuple[list[Tool], Any]:
    """Every built-in tool for this user (and the Timers owning any timer set, or None)."""
    from synthbot_desktop.services.history import search
    from synthbot_desktop.tools.builtins import Timers, builtin_tools
    from synthbot_desktop.tools.clipboard import clipboard_tools
    from synthbot_desktop.tools.memory_tools import memory_tools

    timers = Timers(on_timer) if on_timer is not None else None
    tools = builtin_tools(timers or Timers(lambda _label: None))
    if timers is None:
        tools = [t for t in tools if t.name != "set_timer"]
    tools.extend(clipboard_tools())
    db = ctx.reachable_db()
    if db is None:  # working offline (#14): the tools that read or write the database are not offered
        return tools, timers
    user_id = ctx.user_id

    def search_history(query: str, limit: int = 5) -> dict[str, Any]:
        return {"matches": search(db, user_id, query, limit=max(1, min(limit, 20)))}

    tools.append(Tool("search_history", "Search this user's earlier conversations for words; returns snippets.",
                      {"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
                       "required": ["query"], "additionalProperties": False}, search_history, timeout_s=10))
    tools.extend(memory_tools(db, user_id))
    return tools, timers


def conversation_tools(ctx: AppContext, *, confirm: Confirm | None = None,
                       on_timer: Callable[[str], None] | None = None, mcp: Any = None) -> ToolRegistry | None:
    """The registry for one conversation, or None when tools are switched off.

    ``mcp`` is an :class:`~synthbot_desktop.tools.mcp_client.McpManager` whose servers' tools are
    offered next to the built-ins (started lazily: listing them starts the servers)."""
    s = ctx.settings
    if not s.get_bool("tools.enabled"):
        return None
    tools, timers = builtin_tool_list(ctx, on_timer=on_timer)
    registry = ToolRegistry(disabled=disabled_tools(s),
                            confirm=_always if s.get_bool("tools.auto_confirm") else confirm)
    registry.extend(tools)
    registry.timers = timers  # kept alive with the conversation
    if mcp is not None and s.get_bool("tools.mcp.enabled"):
        registry.providers.append(mcp)
    from synthbot_desktop.services import features

    return features.apply_to_tools(ctx, registry)  # tools an admin switched off are hidden (#18)
