"""Voice catalog and per-user preferences on SQLite and MariaDB, through the fake ElevenLabs API."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from synthbot_desktop.app import AppContext
from synthbot_desktop.storage import voices as repo
from synthbot_desktop.tts import voice_service as svc
from synthbot_desktop.tts.base import VoiceSettings
from synthbot_desktop.tts.voice_settings import VoiceSettingsError
from tests.support.fake_elevenlabs import FAKE_API_KEY, FakeElevenLabs, start_fake_elevenlabs


@pytest.fixture
def fake() -> Iterator[FakeElevenLabs]:
    server = start_fake_elevenlabs()
    yield server
    server.stop()


@pytest.fixture
def vctx(app_env: dict[str, str], memory_keyring: Any, any_db_url: str, fake: FakeElevenLabs,
         monkeypatch: pytest.MonkeyPatch) -> Iterator[AppContext]:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    monkeypatch.setenv("SYNTHBOT_ELEVENLABS_BASE_URL", fake.url)
    monkeypatch.setenv("SYNTHBOT_ELEVENLABS_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    context = AppContext(env=dict(os.environ))
    yield context
    context.close()


def test_catalog_refresh_and_offline_reuse(vctx: AppContext, fake: FakeElevenLabs) -> None:
    from synthbot_desktop.services.voice_catalog import voice_catalog

    catalog = voice_catalog(vctx)
    assert voice_catalog(vctx) is catalog  # one service per context
    heard: list[list[Any]] = []
    unsubscribe = catalog.subscribe(heard.append)
    voices = asyncio.run(catalog.refresh())
    assert [[v.voice_id for v in c] for c in heard] == [[v.voice_id for v in voices]]  # listeners told once
    unsubscribe()
    assert {v.voice_id for v in voices} == {"FAKEvoice000000000001", "FAKEvoice000000000002"}
    rachel = next(v for v in voices if v.name == "Rachel")
    assert rachel.labels["accent"] == "american" and rachel.fetched_at is not None
    fake.stop()  # offline: the cached catalog still answers
    assert len(catalog.cached()) == 2 and catalog.names()["FAKEvoice000000000001"] == "Rachel"
    # a later refresh drops voices the account lost
    with vctx.db.session() as s:
        repo.replace_catalog(s, "elevenlabs", [voices[0]])
    assert [v.voice_id for v in catalog.cached()] == [voices[0].voice_id]
    assert len(heard) == 1  # unsubscribed listeners hear nothing more


def test_preferences_round_trip_with_one_default(vctx: AppContext) -> None:
    s1 = VoiceSettings(stability=0.25, similarity_boost=0.9, style=0.3, use_speaker_boost=False, speed=1.15)
    p1 = svc.save_preference(vctx, "FAKEvoice000000000001", settings=s1, model_id="eleven_multilingual_v2",
                             output_format="mp3_44100_128", make_default=True)
    assert svc.settings_of(p1) == s1 and p1.is_default
    p2 = svc.save_preference(vctx, "FAKEvoice000000000002", settings=VoiceSettings(speed=0.8), make_default=True)
    prefs = {p.voice_id: p for p in svc.preferences(vctx)}
    assert prefs["FAKEvoice000000000002"].is_default and not prefs["FAKEvoice000000000001"].is_default
    back = prefs["FAKEvoice000000000001"]
    assert (back.stability, back.similarity_boost, back.style, back.use_speaker_boost, back.speed) == (
        0.25, 0.9, 0.3, False, 1.15)
    assert back.model_id == "eleven_multilingual_v2" and back.output_format == "mp3_44100_128"
    # partial update keeps the other values
    svc.save_preference(vctx, "FAKEvoice000000000002", settings=VoiceSettings(stability=0.6))
    with vctx.db.session() as s:
        again = repo.default_preference(s, vctx.user_id)
    assert again is not None and again.voice_id == p2.voice_id and again.speed == 0.8 and again.stability == 0.6


def test_invalid_values_never_reach_the_database(vctx: AppContext) -> None:
    with pytest.raises(VoiceSettingsError):
        svc.save_preference(vctx, "FAKEvoice000000000001", settings=VoiceSettings(similarity_boost=1.2))
    assert svc.preferences(vctx) == []


def test_reset_to_voice_defaults_and_preview(vctx: AppContext, fake: FakeElevenLabs) -> None:
    svc.save_preference(vctx, "FAKEvoice000000000002", settings=VoiceSettings(stability=0.1, speed=1.2),
                        make_default=True)
    pref = asyncio.run(svc.reset_to_defaults(vctx, "FAKEvoice000000000002"))
    assert (pref.stability, pref.similarity_boost, pref.style, pref.use_speaker_boost, pref.speed) == (
        0.5, 0.75, 0.0, True, 1.0)
    assert pref.is_default
    audio = asyncio.run(svc.preview(vctx, VoiceSettings(stability=0.9), voice_id="FAKEvoice000000000002",
                                    text="Preview this."))
    assert audio.engine == "elevenlabs" and audio.seconds > 0.5
    sent = fake.state.streams[-1]
    assert sent.voice_id == "FAKEvoice000000000002" and sent.body["voice_settings"]["stability"] == 0.9
    assert sent.body["voice_settings"]["speed"] == 1.0  # saved value under the unsaved change
    with vctx.db.session() as s:
        stored = repo.get_preference(s, vctx.user_id, "elevenlabs", "FAKEvoice000000000002")
    assert stored is not None and stored.stability == 0.5  # preview did not save
