"""The tool loop: ask the model, run the tools it calls, give it the results, until it answers in text.

Bounded: after ``max_rounds`` tool rounds the model is asked once more without tools, so a turn
always ends with text. Text streams through ``on_delta`` in every round (what the chunker speaks).
No dead air: when a tool runs longer than ``filler_after_s`` a :class:`ToolFiller` event asks the
front end to say a short filler and show "running <tool>". Cancelling the task (the user
interrupted) cancels the running tool. Every call and result is kept as messages so the caller can
store them with the turn; every round's usage is kept so extra rounds are counted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from synthbot_desktop.llm.base import ChatMessage, ChatProvider, ChatUsage, ToolCall
from synthbot_desktop.llm.turn import ChatResult, run_chat
from synthbot_desktop.tools.registry import ToolRegistry, ToolResult

FILLER_TEXT = "One moment."


@dataclass(frozen=True)
class ToolStarted:
    name: str
    call_id: str


@dataclass(frozen=True)
class ToolFiller:
    """The tool is slow: speak ``text`` and show "running <name>"."""

    name: str
    text: str = FILLER_TEXT


@dataclass(frozen=True)
class ToolFinished:
    name: str
    call_id: str
    is_error: bool


ToolEvent = ToolStarted | ToolFiller | ToolFinished


@dataclass
class ToolLoopResult:
    final: ChatResult
    rounds: int
    new_messages: list[ChatMessage] = field(default_factory=list)  # calls and results, in order
    usages: list[ChatUsage] = field(default_factory=list)  # one per model call

    @property
    def text(self) -> str:
        return self.final.text


async def run_tool_loop(
    provider: ChatProvider,
    messages: Sequence[ChatMessage],
    model: str,
    registry: ToolRegistry,
    *,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    max_rounds: int = 4,
    on_delta: Callable[[str], None] | None = None,
    on_event: Callable[[ToolEvent], None] | None = None,
    filler_after_s: float = 1.0,
    on_usage: Callable[[ChatResult], None] | None = None,
    on_message: Callable[[ChatMessage], None] | None = None,
) -> ToolLoopResult:
    """``on_usage`` sees every round's result as it ends and ``on_message`` every call/result
    message as it is made, so a turn interrupted mid-loop still stores (and bills) what happened."""
    history = list(messages)
    new: list[ChatMessage] = []
    usages: list[ChatUsage] = []
    if registry.providers:
        await registry.refresh()  # MCP servers start lazily, on the first turn that may use them
    specs = [t.spec() for t in registry.available()]
    rounds = 0
    while True:
        offer = specs if specs and rounds < max_rounds else None  # last call: text only
        result = await run_chat(provider, history, model, system=system, temperature=temperature,
                                max_tokens=max_tokens, on_delta=on_delta, tools=offer)
        usages.append(result.usage)
        if on_usage is not None:
            on_usage(result)
        if not result.tool_calls or result.error is not None or offer is None:
            return ToolLoopResult(result, rounds, new, usages)
        rounds += 1
        call_msg = ChatMessage("assistant", result.text, tool_calls=tuple(result.tool_calls))
        history.append(call_msg)
        new.append(call_msg)
        if on_message is not None:
            on_message(call_msg)
        for call in result.tool_calls:
            res = await _run_one(registry, call, on_event, filler_after_s)
            msg = ChatMessage("tool", res.content, tool_call_id=res.call_id, name=res.name, is_error=res.is_error)
            history.append(msg)
            new.append(msg)
            if on_message is not None:
                on_message(msg)


async def _run_one(registry: ToolRegistry, call: ToolCall, on_event: Callable[[ToolEvent], None] | None,
                   filler_after_s: float) -> ToolResult:
    emit = on_event or (lambda _e: None)
    emit(ToolStarted(call.name, call.id))
    task = asyncio.ensure_future(registry.execute(call))
    try:
        done, _ = await asyncio.wait({task}, timeout=filler_after_s)
        if not done:
            emit(ToolFiller(call.name))
        res = await task
    except asyncio.CancelledError:
        task.cancel()  # the user interrupted: stop the tool too
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        raise
    emit(ToolFinished(call.name, call.id, res.is_error))
    return res
