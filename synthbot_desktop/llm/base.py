"""The chat-provider protocol the pipeline and CLI rely on.

A provider streams :class:`TextDelta` items and ends with exactly one :class:`ChatUsage`
(even on failure paths that produced text, the caller gets usage via the raised error's
partial data). Adding a provider = one module implementing :class:`ChatProvider` + its
contract tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    """One complete tool call the model asked for, emitted once its arguments have all arrived.

    ``arguments`` is the raw JSON text as the model wrote it (it may be malformed: the tool loop
    validates it and answers the model with an error rather than failing the turn).
    """

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatMessage:
    """One message; tool rounds add an assistant message with ``tool_calls`` and one ``tool``
    message per result, tied by ``tool_call_id`` (each provider maps these to its own shape)."""

    role: Role
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None  # the tool's name, on a tool message (Gemini and Ollama need it)
    is_error: bool = False


@dataclass(frozen=True)
class TextDelta:
    text: str


@dataclass(frozen=True)
class ChatUsage:
    """Sent once, last: the provider's own token counts (estimated only when it gave none)."""

    provider: str
    model: str
    tokens_in: int | None
    tokens_out: int | None
    estimated: bool = False
    request_id: str | None = None
    finish_reason: str | None = None
    status_code: int | None = None
    ttft_ms: float | None = None
    latency_ms: float | None = None


StreamItem = TextDelta | ToolCall | ChatUsage


@runtime_checkable
class ChatProvider(Protocol):
    name: str

    def stream(
        self,
        messages: Sequence[ChatMessage],
        model: str,
        *,
        system: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> AsyncIterator[StreamItem]: ...
    # Tool-capable providers (every HttpChatProvider) also take ``tools=[{name, description,
    # parameters}]`` and then may yield ToolCall items; kept out of the protocol so wrappers
    # written before tools (test fakes) still satisfy it.

    async def list_models(self) -> list[str]: ...

    async def validate_key(self) -> None: ...

    async def aclose(self) -> None: ...
