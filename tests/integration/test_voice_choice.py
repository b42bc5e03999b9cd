"""The voice rule, on a real SQLite database and keyring: explicit > persona > the user's default,
``auto`` resolved in one place, ``tts.piper.voice`` honoured, and the tuning applied is the one
saved for the chosen voice (never the default voice's tuning on another voice)."""

from __future__ import annotations

from typing import Any

import pytest

from synthbot_desktop.errors import UsageError
from synthbot_desktop.services.conversation import plan_conversation, speech_for
from synthbot_desktop.services.voice import (
    VoiceChoice,
    elevenlabs_options_for,
    resolve_engine,
    resolve_voice,
)
from synthbot_desktop.storage import personas
from synthbot_desktop.storage import voices as voice_repo


def _prefs(ctx: Any) -> None:
    with ctx.db.session() as s:
        voice_repo.save_preference(s, ctx.user_id, voice_repo.VoicePreference(
            voice_id="v-default", stability=0.11, similarity_boost=0.22, is_default=True))
        voice_repo.save_preference(s, ctx.user_id, voice_repo.VoicePreference(
            voice_id="v-other", stability=0.77, similarity_boost=0.88, speed=1.1))


def _persona(ctx: Any, voice_id: str | None) -> int:
    with ctx.db.session() as s:
        saved = personas.save_persona(s, ctx.user_id, personas.PersonaData(
            name=f"Narrator {voice_id}", system_prompt="You narrate.", temperature=0.3, voice_id=voice_id))
    assert saved.id is not None
    return saved.id


def test_auto_resolves_by_key_and_piper_voice_setting(ctx: Any, memory_keyring: Any) -> None:
    ctx.settings._env_values["tts.piper.voice"] = "amy-us"
    assert resolve_engine(ctx, "auto") == "piper"
    assert resolve_voice(ctx) == VoiceChoice("piper", "amy-us")  # not the hard-coded joe-us
    memory_keyring.set_password("synthbot-desktop", "elevenlabs", "el-key-000")
    assert resolve_engine(ctx, "auto") == "elevenlabs"
    assert resolve_voice(ctx).engine == "elevenlabs"
    with pytest.raises(UsageError):
        resolve_engine(ctx, "espeak")


def test_default_is_the_users_default_voice(ctx: Any, memory_keyring: Any) -> None:
    memory_keyring.set_password("synthbot-desktop", "elevenlabs", "el-key-000")
    ctx.settings._env_values["tts.elevenlabs.voice_id"] = "v-setting"
    assert resolve_voice(ctx) == VoiceChoice("elevenlabs", "v-setting")
    _prefs(ctx)
    assert resolve_voice(ctx) == VoiceChoice("elevenlabs", "v-default")


def test_explicit_beats_persona_beats_default(ctx: Any, memory_keyring: Any) -> None:
    memory_keyring.set_password("synthbot-desktop", "elevenlabs", "el-key-000")
    _prefs(ctx)
    pid = _persona(ctx, "v-persona")
    plan = plan_conversation(ctx, persona_id=pid)
    assert plan.voice == VoiceChoice("elevenlabs", "v-persona")
    assert plan.system_prompt == "You narrate." and plan.temperature == 0.3
    explicit = VoiceChoice("piper", "joe-us")
    assert plan_conversation(ctx, persona_id=pid, voice=explicit).voice == explicit
    assert plan_conversation(ctx, persona_id=pid, voice_id="v-flag").voice == VoiceChoice("elevenlabs", "v-flag")
    assert plan_conversation(ctx, persona_id=_persona(ctx, None)).voice == VoiceChoice("elevenlabs", "v-default")


def test_persona_elevenlabs_voice_without_key_falls_back_to_default(ctx: Any) -> None:
    pid = _persona(ctx, "v-persona")
    assert plan_conversation(ctx, persona_id=pid).voice.engine == "piper"


def test_tuning_is_the_one_saved_for_that_voice(ctx: Any, memory_keyring: Any) -> None:
    memory_keyring.set_password("synthbot-desktop", "elevenlabs", "el-key-000")
    _prefs(ctx)
    other = elevenlabs_options_for(ctx, "v-other")
    assert other.voice_id == "v-other"
    assert (other.settings.stability, other.settings.similarity_boost, other.settings.speed) == (0.77, 0.88, 1.1)
    untuned = elevenlabs_options_for(ctx, "v-never-tuned")
    assert untuned.voice_id == "v-never-tuned" and untuned.settings.stability != 0.11  # not the default's tuning
    speech = speech_for(ctx, VoiceChoice("elevenlabs", "v-other"))
    primary = getattr(speech, "primary", speech)
    assert primary.options.voice_id == "v-other" and primary.options.settings.stability == 0.77
    assert primary.usage_sink is None  # the turn engine writes the TTS usage rows


def test_voice_choice_text_form() -> None:
    assert VoiceChoice.parse("elevenlabs:abc").key == "elevenlabs:abc"
    with pytest.raises(UsageError):
        VoiceChoice.parse("piper")
    with pytest.raises(UsageError):
        VoiceChoice("auto", "x")


def test_a_built_speech_provider_sends_tuning_saved_after_it_was_built(ctx: Any, memory_keyring: Any) -> None:
    """Issue #21, defect 3 (the CLI and window share this builder): a provider built before "Save as
    default" still sends the new voice_settings, and each voice keeps its own tuning."""
    import asyncio

    from synthbot_desktop.tts import voice_service
    from synthbot_desktop.tts.base import SpeechRequest, VoiceSettings
    from tests.support.fake_elevenlabs import DEFAULT_VOICE_ID, FAKE_API_KEY, start_fake_elevenlabs

    memory_keyring.set_password("synthbot-desktop", "elevenlabs", FAKE_API_KEY)
    server = start_fake_elevenlabs()
    try:
        ctx.settings._env_values["providers.elevenlabs.base_url"] = server.url
        ctx.settings._env_values["tts.fallback_to_piper"] = False
        speech = speech_for(ctx, VoiceChoice("elevenlabs", DEFAULT_VOICE_ID))

        async def speak(text: str) -> None:
            async for _chunk in speech.stream(SpeechRequest(text, voice_id=DEFAULT_VOICE_ID)):
                pass

        async def session() -> None:
            await speak("Before.")
            await asyncio.to_thread(voice_service.save_preference, ctx, DEFAULT_VOICE_ID,
                                    settings=VoiceSettings(stability=0.2), make_default=True)
            await asyncio.to_thread(voice_service.save_preference, ctx, "v-other",
                                    settings=VoiceSettings(stability=0.9))  # another voice's tuning
            await speak("After.")
            await speech.aclose()

        asyncio.run(session())
        before, after = server.state.streams[-2:]
        assert "voice_settings" not in before.body
        assert after.voice_id == DEFAULT_VOICE_ID and after.body["voice_settings"]["stability"] == 0.2
    finally:
        server.stop()
