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

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class ChatMessage:
    role: Role
    content: str


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


@dataclass(frozen=True)
class ToolCall:
    """One complete tool call the model asked for, emitted once its arguments have all arrived.

    ``arguments`` is the raw JSON text as the model wrote it (it may be malformed: the tool loop
    validates it and answers the model with an error rather than failing the turn).
    """

    id: str
    name: str
    arguments: str


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

    async def list_models(self) -> list[str]: ...

    async def validate_key(self) -> None: ...

    async def aclose(self) -> None: ...
