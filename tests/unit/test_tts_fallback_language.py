"""ElevenLabs fails for a non-English reply: the English offline voice must not read it (#19).

FallbackSpeech refuses the language its offline voice cannot speak; the turn keeps the reply as
text and tells the user once per session why (the primary's failure + "only English offline").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from synthbot_desktop.errors import ErrorKind, ProviderError, ProviderErrorKind
from synthbot_desktop.pipeline.events import ErrorEvent
from synthbot_desktop.tts.base import AudioChunk, SpeechRequest
from synthbot_desktop.tts.fallback import FallbackSpeech, OfflineLanguageError
from tests.unit.test_turn_language import FakePiper, _engine, _turn


class FailingPrimary:
    """ElevenLabs stand-in that fails every request with ``kind`` before any audio."""

    name = "elevenlabs"

    def __init__(self, kind: ProviderErrorKind = ProviderErrorKind.QUOTA) -> None:
        self.kind = kind
        self.requests: list[SpeechRequest] = []

    async def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]:
        self.requests.append(request)
        raise ProviderError("elevenlabs", self.kind, "quota_exceeded", status_code=401)
        yield  # pragma: no cover  (makes this an async generator)

    async def aclose(self) -> None:
        return None


def _collect(speech: FallbackSpeech, request: SpeechRequest) -> list[AudioChunk]:
    async def go() -> list[AudioChunk]:
        return [c async for c in speech.stream(request)]
    return asyncio.run(go())


def _fallback(kind: ProviderErrorKind = ProviderErrorKind.QUOTA, voice: str = "joe-us",
              cooldown_s: float = 30.0) -> tuple[FallbackSpeech, FailingPrimary, FakePiper, list[object]]:
    events: list[object] = []
    primary, piper = FailingPrimary(kind), FakePiper(voice)
    from synthbot_desktop.language import piper_voice_language
    speech = FallbackSpeech(primary, lambda: piper, events=events.append, cooldown_s=cooldown_s,
                            secondary_language=piper_voice_language(voice))
    return speech, primary, piper, events


def test_french_request_is_refused_not_read_by_the_english_voice() -> None:
    speech, primary, piper, events = _fallback()
    with pytest.raises(OfflineLanguageError) as info:
        _collect(speech, SpeechRequest("Bonjour à tous.", language="fr"))
    assert piper.requests == [] and len(primary.requests) == 1
    assert info.value.language == "fr" and info.value.reason is not None
    assert info.value.reason.kind is ProviderErrorKind.QUOTA and info.value.info is not None
    assert "English only, not French" in info.value.message
    assert not [e for e in events if isinstance(e, ErrorEvent) and e.kind == "engine_fallback"]
    # Quota sticks: the next French request is refused without asking ElevenLabs again.
    with pytest.raises(OfflineLanguageError):
        _collect(speech, SpeechRequest("Encore.", language="fr-FR"))
    assert len(primary.requests) == 1 and piper.requests == []


def test_english_and_unknown_language_still_fall_back_to_piper_with_the_announcement() -> None:
    speech, _, piper, events = _fallback()
    assert _collect(speech, SpeechRequest("Hello there.", language="en"))
    assert _collect(speech, SpeechRequest("No language given."))
    assert len(piper.requests) == 2
    fallbacks = [e for e in events if isinstance(e, ErrorEvent) and e.kind == "engine_fallback"]
    assert len(fallbacks) == 1 and "offline Piper voice" in fallbacks[0].message
    assert fallbacks[0].kind is ErrorKind.ENGINE_FALLBACK  # the shared enum, not a free string


def test_a_piper_voice_in_the_reply_language_speaks_it() -> None:
    speech, _, piper, _ = _fallback(voice="fr_FR-siwis-medium")
    assert _collect(speech, SpeechRequest("Bonjour.", language="fr"))
    assert piper.requests and piper.requests[0].language == "fr"
    with pytest.raises(OfflineLanguageError):  # ...but not German
        _collect(speech, SpeechRequest("Guten Tag.", language="de"))


def test_offline_network_failure_refuses_french_then_retries_elevenlabs_after_the_cooldown() -> None:
    speech, primary, piper, _ = _fallback(ProviderErrorKind.CONNECTION, cooldown_s=0.0)
    for _ in range(2):
        with pytest.raises(OfflineLanguageError) as info:
            _collect(speech, SpeechRequest("Bonjour.", language="fr"))
        assert info.value.reason is not None and info.value.reason.kind is ProviderErrorKind.CONNECTION
    assert len(primary.requests) == 2 and piper.requests == []  # cool-down 0: ElevenLabs asked each time


def test_turn_keeps_a_french_reply_as_text_and_says_why_once_per_session() -> None:
    speech, primary, piper, _ = _fallback()
    engine, _, events = _engine("fr", speech)  # type: ignore[arg-type]
    _turn(engine)
    _turn(engine)
    assert piper.requests == [] and len(primary.requests) == 1
    notices = [e for e in events if isinstance(e, ErrorEvent) and e.kind == "tts_language"]
    assert len(notices) == 1, events
    assert "quota" in notices[0].message and "only English speech is available offline" in notices[0].message
    assert "French" in notices[0].message
    assert not [e for e in events if isinstance(e, ErrorEvent) and e.kind in ("tts", "engine_fallback")]
    units = engine.recorder.units  # type: ignore[attr-defined]
    replies = [m.content for u in units for m in getattr(u, "messages", []) if getattr(m, "role", "") == "assistant"]
    assert replies and all("Bien sûr" in r for r in replies)  # the reply is stored as text, every turn
    usage = [r for u in units for r in getattr(u, "usage", []) if r.endpoint == "text-to-speech"]
    assert usage and not usage[0].success and usage[0].error_kind == "quota"


def test_english_turn_after_a_quota_failure_is_spoken_by_piper() -> None:
    speech, _, piper, _events = _fallback()
    engine, _, _ = _engine("en", speech)  # type: ignore[arg-type]
    _turn(engine)
    assert piper.requests and all(r.language in (None, "en") for r in piper.requests)
