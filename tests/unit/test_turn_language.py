"""The user's language through one turn (issue #19): LLM instructions, TTS model, offline voice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from synthbot_desktop.llm.base import ChatMessage, StreamItem
from synthbot_desktop.pipeline.events import ErrorEvent
from synthbot_desktop.pipeline.memory_output import MemoryOutput
from synthbot_desktop.pipeline.ports import Samples, Transcription
from synthbot_desktop.pipeline.session import ConversationState
from synthbot_desktop.pipeline.turn import TurnConfig, TurnEngine, UserInput
from tests.support.turn_fakes import AUDIO, FakeChat, FakeSpeech, ListRecorder


class SystemChat(FakeChat):
    def __init__(self) -> None:
        super().__init__("Bien sûr. Voici le plan pour aujourd'hui.")
        self.systems: list[str | None] = []

    def stream(self, messages: Sequence[ChatMessage], model: str, *, system: str | None = None,
               temperature: float | None = None, max_tokens: int | None = None) -> AsyncIterator[StreamItem]:
        self.systems.append(system)
        return super().stream(messages, model, system=system, temperature=temperature, max_tokens=max_tokens)


class LangSTT:
    def __init__(self, language: str | None) -> None:
        self.language = language

    def transcribe(self, audio: Samples, *, language: str | None = None, prompt: str | None = None) -> Transcription:
        return Transcription("quel est le plan", self.language, 0.9, 1.0, "base")


@dataclass
class _PiperOpts:
    voice: str = "joe-us"


class FakePiper(FakeSpeech):
    name = "piper"

    def __init__(self, voice: str = "joe-us") -> None:
        super().__init__()
        self.options = _PiperOpts(voice)


def _engine(language: str | None, speech: FakeSpeech, tts_model: str | None = "eleven_flash_v2",
            fixed: str | None = None) -> tuple[TurnEngine, SystemChat, list[object]]:
    events: list[object] = []
    chat = SystemChat()
    engine = TurnEngine(conversation=ConversationState(7, "fakechat", "m1", system_prompt="Be brief."),
                        chat=chat, stt=LangSTT(language), speech=speech, output=MemoryOutput(realtime=False),
                        recorder=ListRecorder(), sink=events.append,
                        config=TurnConfig(language=fixed, tts_model_id=tts_model, progress_interval_s=0.01))
    return engine, chat, events


def _turn(engine: TurnEngine) -> None:
    asyncio.run(engine.run_turn(UserInput(audio=AUDIO)))


def test_french_turn_asks_for_french_and_uses_a_multilingual_voice_model() -> None:
    speech = FakeSpeech()
    engine, chat, _ = _engine("fr", speech)
    _turn(engine)
    assert chat.systems[0] is not None and chat.systems[0].startswith("Be brief.")
    assert "Reply in French" in chat.systems[0]
    assert speech.requests and {r.model_id for r in speech.requests} == {"eleven_flash_v2_5"}


def test_english_turn_leaves_instructions_and_model_alone() -> None:
    speech = FakeSpeech()
    engine, chat, _ = _engine("en", speech)
    _turn(engine)
    assert chat.systems == ["Be brief."]
    assert {r.model_id for r in speech.requests} == {"eleven_flash_v2"}


def test_fixed_language_is_used_when_the_transcript_has_none() -> None:
    speech = FakeSpeech()
    engine, chat, _ = _engine(None, speech, tts_model="eleven_multilingual_v2", fixed="de-DE")
    _turn(engine)
    assert "Reply in German" in str(chat.systems[0])
    assert {r.model_id for r in speech.requests} == {"eleven_multilingual_v2"}  # already multilingual: kept


def test_english_piper_voice_is_not_used_for_french_and_the_user_is_told_once() -> None:
    piper = FakePiper()
    engine, _, events = _engine("fr", piper)
    _turn(engine)
    _turn(engine)
    assert piper.requests == []
    notices = [e for e in events if isinstance(e, ErrorEvent) and e.kind == "tts_language"]
    assert len(notices) == 1 and "only English speech is available offline" in notices[0].message


def test_piper_still_speaks_english_and_a_french_voice_speaks_french() -> None:
    piper = FakePiper()
    engine, _, events = _engine("en", piper)
    _turn(engine)
    assert piper.requests
    french = FakePiper("fr_FR-siwis-medium")
    engine, _, events = _engine("fr", french)
    _turn(engine)
    assert french.requests and not [e for e in events if isinstance(e, ErrorEvent)]
