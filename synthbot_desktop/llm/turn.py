"""Run one chat call to completion: stream deltas to a callback, always come back with usage.

Front ends (CLI, conversation loop) want the same three outcomes handled once: a complete
reply, a reply cut short by an error (text kept, marked incomplete), and a cancelled call
(the caller stopped it; text so far kept). The provider stream is closed in every case.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.llm.base import ChatMessage, ChatProvider, ChatUsage, StreamItem, TextDelta, ToolCall
from synthbot_desktop.llm.errors import ChatStreamError
from synthbot_desktop.llm.tokens import estimate_messages_tokens, estimate_tokens


@dataclass
class ChatResult:
    text: str
    usage: ChatUsage
    error: ProviderError | None = None
    cancelled: bool = False
    tool_calls: list[ToolCall] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.error is None and not self.cancelled


def _takes_tools(provider: ChatProvider) -> bool:
    """Whether ``provider.stream`` accepts ``tools`` (wrappers and fakes written before tools do
    not: they get a plain call, and the model simply sees no tools, rather than a TypeError)."""
    try:
        params = inspect.signature(provider.stream).parameters
    except (TypeError, ValueError):
        return True
    return "tools" in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


async def run_chat(
    provider: ChatProvider,
    messages: Sequence[ChatMessage],
    model: str,
    *,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    on_delta: Callable[[str], None] | None = None,
    tools: Sequence[dict[str, Any]] | None = None,
) -> ChatResult:
    """Stream a reply; ProviderErrors are returned in the result, cancellation re-raised
    after the partial result is attached to the CancelledError (``exc.args[0]``)."""
    parts: list[str] = []
    calls: list[ToolCall] = []
    started = time.perf_counter()
    first: float | None = None
    stream: AsyncIterator[StreamItem]
    if tools and _takes_tools(provider):
        stream = cast(Any, provider).stream(messages, model, system=system, temperature=temperature,
                                            max_tokens=max_tokens, tools=tools)
    else:  # providers (and fakes) written before tools keep working unchanged
        stream = provider.stream(messages, model, system=system, temperature=temperature, max_tokens=max_tokens)
    try:
        async with contextlib.aclosing(stream):  # type: ignore[type-var]
            async for item in stream:
                if isinstance(item, TextDelta):
                    if first is None:
                        first = time.perf_counter()
                    parts.append(item.text)
                    if on_delta is not None:
                        on_delta(item.text)
                elif isinstance(item, ToolCall):
                    calls.append(item)
                else:
                    return ChatResult("".join(parts), item, tool_calls=calls)
    except ChatStreamError as exc:
        return ChatResult(exc.partial_text or "".join(parts), exc.usage, exc)
    except asyncio.CancelledError as exc:
        text = "".join(parts)
        usage = ChatUsage(
            provider=provider.name, model=model,
            tokens_in=estimate_messages_tokens([m.content for m in messages] + ([system] if system else [])),
            tokens_out=estimate_tokens(text), estimated=True,
            ttft_ms=(first - started) * 1000 if first else None,
            latency_ms=(time.perf_counter() - started) * 1000,
        )
        partial = ChatResult(text, usage, ProviderError(provider.name, ProviderErrorKind.CANCELLED), cancelled=True)
        exc.args = (partial, *exc.args[1:])
        raise
    raise ProviderError(provider.name, ProviderErrorKind.PROTOCOL, "the stream ended without usage")
