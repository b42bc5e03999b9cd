"""Engine choice: auto = ElevenLabs with a key else Piper; fallback wrapping per settings."""

from __future__ import annotations

from typing import Any

import pytest

from synthbot_desktop.errors import SecretStoreError, UsageError
from synthbot_desktop.tts.elevenlabs_speech import ElevenLabsSpeech
from synthbot_desktop.tts.fallback import FallbackSpeech
from synthbot_desktop.tts.piper_engine import PiperSpeech
from synthbot_desktop.tts.registry import create_speech_provider


def test_auto_without_key_is_piper(ctx: Any) -> None:
    assert isinstance(create_speech_provider("auto", ctx), PiperSpeech)


def test_auto_with_key_is_elevenlabs_with_piper_fallback(ctx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx.keystore.set("elevenlabs", "sk_test_key_123")
    provider = create_speech_provider(None, ctx)
    assert isinstance(provider, FallbackSpeech) and isinstance(provider.primary, ElevenLabsSpeech)
    ctx.settings.set("tts.fallback_to_piper", False)
    assert isinstance(create_speech_provider("elevenlabs", ctx), ElevenLabsSpeech)


def test_piper_settings_are_passed(ctx: Any) -> None:
    ctx.settings.set("tts.piper.length_scale", 1.3)
    provider = create_speech_provider("piper", ctx)
    assert isinstance(provider, PiperSpeech) and provider.options.length_scale == 1.3


def test_elevenlabs_without_key_says_how_to_fix(ctx: Any) -> None:
    with pytest.raises(SecretStoreError) as err:
        create_speech_provider("elevenlabs", ctx)
    assert "keys set elevenlabs" in err.value.one_line()


def test_unknown_engine(ctx: Any) -> None:
    with pytest.raises(UsageError):
        create_speech_provider("espeak", ctx)


def test_default_voice_preference_is_used(ctx: Any) -> None:
    from synthbot_desktop.tts import voice_service
    from synthbot_desktop.tts.base import VoiceSettings

    ctx.keystore.set("elevenlabs", "sk_test_key_123")
    voice_service.save_preference(ctx, "VOICEabc", settings=VoiceSettings(stability=0.2, speed=0.9),
                                  model_id="eleven_multilingual_v2", output_format="pcm_16000", make_default=True)
    provider = create_speech_provider("elevenlabs", ctx)
    primary = provider.primary if isinstance(provider, FallbackSpeech) else provider
    assert isinstance(primary, ElevenLabsSpeech)
    assert primary.options.voice_id == "VOICEabc" and primary.options.model_id == "eleven_multilingual_v2"
    assert primary.options.settings.stability == 0.2 and primary.audio_format.sample_rate == 16000
