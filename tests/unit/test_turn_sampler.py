"""TurnEngine.sampler (enhanced mode): the chosen seed/temperature reach the request and the record the message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from synthbot_desktop.llm.base import ChatMessage, StreamItem
from synthbot_desktop.pipeline.events import ErrorEvent
from synthbot_desktop.pipeline.turn import UserInput
from tests.unit.test_pipeline_turn import AUDIO, FakeChat, make


class SeedChat(FakeChat):
    def __init__(self) -> None:
        super().__init__("Fine. All good.")
        self.sent: list[tuple[int | None, float | None]] = []

    def stream(self, messages: Sequence[ChatMessage], model: str, *, system: str | None = None,
               temperature: float | None = None, max_tokens: int | None = None) -> AsyncIterator[StreamItem]:
        self.sent.append((getattr(self, "sampling_seed", None), temperature))
        return super().stream(messages, model, system=system, temperature=temperature, max_tokens=max_tokens)


@dataclass
class Choice:
    seed: int | None
    temperature: float
    record: dict[str, Any] = field(default_factory=dict)
    notice: str | None = None


def test_sampler_choice_reaches_the_request_and_the_assistant_message() -> None:
    chat = SeedChat()
    engine, _, rec, events = make(chat=chat, realtime=False)
    calls: list[str] = []

    def sampler(consumer: str, temperature: float | None) -> Choice:
        calls.append(consumer)
        return Choice(12345, 0.81, {"seed": 12345, "temperature": 0.81, "source": "os"}, "pool empty")

    engine.sampler = sampler
    result = asyncio.run(engine.run_turn(UserInput(audio=AUDIO)))
    assert chat.sent == [(12345, 0.81)]
    assert calls == [result.user_uid]  # the block is named after the user message, as `chat` does
    user, assistant = rec.units[-1].messages
    assert assistant.timings is not None and assistant.timings["randomness"] == result.randomness
    assert result.randomness == {"seed": 12345, "temperature": 0.81, "source": "os"}
    assert "randomness" not in (user.timings or {})
    assert [e.message for e in events if isinstance(e, ErrorEvent) and e.kind == "randomness"] == ["pool empty"]


def test_a_failing_sampler_never_costs_the_turn() -> None:
    chat = SeedChat()
    engine, _, rec, _ = make(chat=chat, realtime=False)

    def broken(consumer: str, temperature: float | None) -> Choice:
        raise RuntimeError("database gone")

    engine.sampler = broken
    result = asyncio.run(engine.run_turn(UserInput(audio=AUDIO)))
    assert result.full_reply == "Fine. All good." and result.randomness is None
    assert chat.sent == [(None, None)]
    assert "randomness" not in (rec.units[-1].messages[1].timings or {})
