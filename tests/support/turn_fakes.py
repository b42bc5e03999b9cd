"""In-memory fakes of the turn engine's ports (chat, speech, STT, recorder) shared by the pipeline tests.

They live here, not inside a test module, so tests import support code rather than each other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import numpy as np

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.llm.base import ChatMessage, ChatUsage, StreamItem, TextDelta
from synthbot_desktop.pipeline.events import Event
from synthbot_desktop.pipeline.memory_output import MemoryOutput
from synthbot_desktop.pipeline.ports import Samples, Transcription
from synthbot_desktop.pipeline.session import ConversationState
from synthbot_desktop.pipeline.turn import TurnConfig, TurnEngine
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.tts.base import AudioChunk, AudioFormat, SpeechRequest

FMT = AudioFormat(16000)
REPLY = ("Sure, here is the plan for today. First we walk to the park. Then we have lunch by the lake. "
         "After that we go home and rest.")


class FakeChat:
    name = "fakechat"

    def __init__(self, reply: str = REPLY, first_delay: float = 0.05, per_token: float = 0.005,
                 fail_after: int | None = None) -> None:
        self.reply, self.first_delay, self.per_token, self.fail_after = reply, first_delay, per_token, fail_after
        self.calls: list[list[ChatMessage]] = []
        self.cancelled = False

    async def stream(self, messages: Sequence[ChatMessage], model: str, *, system: str | None = None,
                     temperature: float | None = None, max_tokens: int | None = None) -> AsyncIterator[StreamItem]:
        self.calls.append(list(messages))
        try:
            await asyncio.sleep(self.first_delay)
            words = self.reply.split(" ")
            for i, w in enumerate(words):
                if self.fail_after is not None and i == self.fail_after:
                    raise ProviderError("fakechat", ProviderErrorKind.UNAVAILABLE, "overloaded", status_code=529)
                yield TextDelta(w + (" " if i < len(words) - 1 else ""))
                await asyncio.sleep(self.per_token)
            yield ChatUsage("fakechat", model, 12, len(words), request_id="req-1")
        except asyncio.CancelledError:
            self.cancelled = True
            raise

    async def list_models(self) -> list[str]:
        return ["m"]

    async def validate_key(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


class FakeSpeech:
    """0.05 s of audio per character, delivered in two pieces after a first-byte delay."""

    name = "fakespeech"

    def __init__(self, delay: float = 0.02, fail_on: int | None = None) -> None:
        self.delay, self.fail_on = delay, fail_on
        self.requests: list[SpeechRequest] = []

    async def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]:
        self.requests.append(request)
        if self.fail_on is not None and len(self.requests) > self.fail_on:
            raise ProviderError("fakespeech", ProviderErrorKind.QUOTA, "quota_exceeded", status_code=401)
        await asyncio.sleep(self.delay)
        n = int(len(request.text) * 0.05 * FMT.sample_rate) * 2
        half = n // 2 - (n // 2) % 2
        yield AudioChunk(b"\x01\x00" * (half // 2), FMT)
        yield AudioChunk(b"\x01\x00" * ((n - half) // 2), FMT)

    async def aclose(self) -> None:
        return None


class FakeSTT:
    def __init__(self, text: str = "what is the plan", delay: float = 0.02) -> None:
        self.text, self.delay = text, delay
        self.calls = 0

    def transcribe(self, audio: Samples, *, language: str | None = None, prompt: str | None = None) -> Transcription:
        import time

        self.calls += 1
        time.sleep(self.delay)
        return Transcription(self.text, "en", 0.9, len(audio) / 16000, "tiny.en")


class ListRecorder:
    def __init__(self) -> None:
        self.units: list[WriteUnit] = []

    def submit(self, unit: WriteUnit) -> None:
        self.units.append(unit)


def make(chat: FakeChat | None = None, speech: FakeSpeech | None = None, stt: FakeSTT | None = None,
         realtime: bool = True) -> tuple[TurnEngine, MemoryOutput, ListRecorder, list[Event]]:
    events: list[Event] = []
    out = MemoryOutput(realtime=realtime)
    rec = ListRecorder()
    engine = TurnEngine(conversation=ConversationState(7, "fakechat", "m1"), chat=chat or FakeChat(),
                        stt=stt or FakeSTT(), speech=speech or FakeSpeech(), output=out, recorder=rec,
                        sink=events.append, config=TurnConfig(progress_interval_s=0.01))
    return engine, out, rec, events


AUDIO = np.zeros(16000, dtype=np.float32)
