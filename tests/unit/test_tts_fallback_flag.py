"""The admin turned the offline Piper voice off (feature.tts.piper, issue #18): an ElevenLabs quota or
network failure must not fall back to Piper. One clear line names the failure and the flag; the
turn keeps its reply as text; turning Piper back on is followed at the next switch."""

from __future__ import annotations

import pytest

from synthbot_desktop.errors import ProviderErrorKind
from synthbot_desktop.pipeline.events import ErrorEvent
from synthbot_desktop.tts.base import SpeechRequest
from synthbot_desktop.tts.fallback import FallbackBlockedError, FallbackSpeech
from tests.unit.test_tts_fallback_language import FailingPrimary, _collect
from tests.unit.test_turn_language import FakePiper, _engine, _turn

BLOCKED = "the offline Piper voice is turned off by your administrator (feature flag feature.tts.piper)"


def _blocked_fallback(kind: ProviderErrorKind = ProviderErrorKind.QUOTA, cooldown_s: float = 30.0
                      ) -> tuple[FallbackSpeech, FailingPrimary, FakePiper, list[object], dict[str, bool]]:
    events: list[object] = []
    flag = {"piper": False}
    primary, piper = FailingPrimary(kind), FakePiper()
    speech = FallbackSpeech(primary, lambda: piper, events=events.append, cooldown_s=cooldown_s,
                            secondary_language="en", secondary_blocked=lambda: None if flag["piper"] else BLOCKED)
    return speech, primary, piper, events, flag


def test_quota_failure_with_piper_off_is_one_line_and_never_reaches_piper() -> None:
    speech, primary, piper, events, _ = _blocked_fallback()
    with pytest.raises(FallbackBlockedError) as info:
        _collect(speech, SpeechRequest("Hello there.", language="en"))
    line = info.value.one_line()
    assert "\n" not in line and "quota" in line and "feature.tts.piper" in line
    assert "fall back to Piper" not in line  # the quota hint's advice cannot apply here
    assert info.value.kind is ProviderErrorKind.QUOTA and info.value.info is not None
    assert piper.requests == [] and not events  # no "speaking with the offline Piper voice instead"
    with pytest.raises(FallbackBlockedError):  # quota sticks: ElevenLabs is not asked again
        _collect(speech, SpeechRequest("Again."))
    assert len(primary.requests) == 1 and piper.requests == []


def test_offline_failure_is_blocked_too_and_piper_back_on_is_followed_at_the_next_switch() -> None:
    speech, primary, piper, events, flag = _blocked_fallback(ProviderErrorKind.CONNECTION, cooldown_s=0.0)
    with pytest.raises(FallbackBlockedError) as info:
        _collect(speech, SpeechRequest("Hello."))
    assert info.value.kind is ProviderErrorKind.CONNECTION and piper.requests == []
    flag["piper"] = True  # the admin turns Piper back on
    assert _collect(speech, SpeechRequest("Hello again."))
    assert len(piper.requests) == 1 and len(primary.requests) == 2
    assert [e.kind for e in events if isinstance(e, ErrorEvent)] == ["engine_fallback"]


def test_turn_keeps_the_reply_as_text_and_says_why_in_one_line() -> None:
    speech, primary, piper, _, _ = _blocked_fallback()
    engine, _, events = _engine("en", speech)  # type: ignore[arg-type]
    _turn(engine)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert len(errors) == 1 and errors[0].kind == "tts", events
    assert "shown as text" in errors[0].message and "feature.tts.piper" in errors[0].message
    assert "\n" not in errors[0].message and piper.requests == [] and len(primary.requests) == 1
    units = engine.recorder.units  # type: ignore[attr-defined]
    replies = [m for u in units for m in getattr(u, "messages", []) if getattr(m, "role", "") == "assistant"]
    assert replies and replies[0].content and "feature.tts.piper" in (replies[0].error or "")
    usage = [r for u in units for r in getattr(u, "usage", []) if r.endpoint == "text-to-speech"]
    assert usage and not usage[0].success and usage[0].error_kind == "quota"
