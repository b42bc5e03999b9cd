"""Build the speech provider the settings (and the user's voice preferences) ask for.

``auto`` means ElevenLabs when a key is set, else Piper; with ``tts.fallback_to_piper`` on,
ElevenLabs is wrapped so quota or network failures switch to Piper and say so — unless an admin
turned Piper off (feature flag ``feature.tts.piper``): then such a failure is one line and the
reply stays text.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from synthbot_desktop.errors import DatabaseError, UsageError
from synthbot_desktop.language import piper_voice_language
from synthbot_desktop.pipeline.events import EventSink
from synthbot_desktop.setting_keys import TTS_FALLBACK_TO_PIPER
from synthbot_desktop.storage import voices as voice_repo
from synthbot_desktop.storage.records import UsageRecord
from synthbot_desktop.tts.base import SpeechProvider, VoiceSettings
from synthbot_desktop.tts.elevenlabs_api import ElevenLabsConfig
from synthbot_desktop.tts.elevenlabs_speech import ElevenLabsOptions, ElevenLabsSpeech
from synthbot_desktop.tts.fallback import FallbackSpeech
from synthbot_desktop.tts.metrics import MetricsSink
from synthbot_desktop.tts.piper_engine import PiperOptions, PiperSpeech
from synthbot_desktop.tts.usage import UsageSink

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)

ENGINES = ("auto", "elevenlabs", "piper")
PIPER_FLAG = "feature.tts.piper"


def piper_options(ctx: AppContext) -> PiperOptions:
    g = ctx.settings.get
    return PiperOptions(voice=str(g("tts.piper.voice")), length_scale=float(g("tts.piper.length_scale")),
                        noise_scale=float(g("tts.piper.noise_scale")), noise_w=float(g("tts.piper.noise_w")),
                        speaker_id=int(g("tts.piper.speaker_id")))


def elevenlabs_settings_options(ctx: AppContext, voice_id: str | None = None) -> ElevenLabsOptions:
    """Options from settings alone (``voice_id`` replaces the configured voice when given)."""
    g = ctx.settings.get
    return ElevenLabsOptions(
        voice_id=voice_id if voice_id is not None else str(g("tts.elevenlabs.voice_id")),
        model_id=str(g("tts.elevenlabs.model_id")), output_format=str(g("tts.elevenlabs.output_format")),
        optimize_streaming_latency=int(g("tts.elevenlabs.optimize_streaming_latency")),
    )


def with_preference(opts: ElevenLabsOptions, pref: voice_repo.VoicePreference | None) -> ElevenLabsOptions:
    """``opts`` overlaid with a saved voice preference: its voice, tuning, and model/format when set."""
    if pref is None:
        return opts
    return ElevenLabsOptions(
        voice_id=pref.voice_id, model_id=pref.model_id or opts.model_id,
        output_format=pref.output_format or opts.output_format,
        settings=VoiceSettings(pref.stability, pref.similarity_boost, pref.style, pref.use_speaker_boost, pref.speed),
        optimize_streaming_latency=opts.optimize_streaming_latency,
    )


def elevenlabs_options(ctx: AppContext, *, use_preferences: bool = True) -> ElevenLabsOptions:
    """Options from settings, overlaid with the user's default voice preference when one exists."""
    opts = elevenlabs_settings_options(ctx)
    if not use_preferences:
        return opts
    try:
        with ctx.db.session() as s:
            pref = voice_repo.default_preference(s, ctx.user_id, "elevenlabs")
    except DatabaseError as exc:
        log.warning("voice preferences unavailable, using settings: %s", exc.one_line())
        return opts
    return with_preference(opts, pref)


def _usage_sink(ctx: AppContext) -> UsageSink:
    def sink(record: UsageRecord) -> None:
        ctx.recorder.record_usage(record)

    return sink


def create_speech_provider(
    engine: str | None,
    ctx: AppContext,
    *,
    events: EventSink | None = None,
    record_usage: bool = True,
    use_preferences: bool = True,
    options: ElevenLabsOptions | None = None,
    piper: PiperOptions | None = None,
    metrics_sink: MetricsSink | None = None,
) -> SpeechProvider:
    """The SpeechProvider for ``engine`` (None = the ``tts.engine`` setting).

    ``options`` / ``piper`` pin the voice and its tuning (``services.voice`` decides them);
    without them the settings and the user's default voice preference apply.
    """
    piper_opts = piper or piper_options(ctx)
    engine = engine or ctx.settings.get_str("tts.engine")
    if engine not in ENGINES:
        raise UsageError(f"unknown speech engine {engine!r}", hint=f"use one of: {', '.join(ENGINES)}")
    key = ctx.keystore.get("elevenlabs") if engine in ("auto", "elevenlabs") else None
    if engine == "piper" or (engine == "auto" and not key):
        if engine == "auto":
            log.info("no ElevenLabs key is set: speaking with the offline Piper voice")
        return PiperSpeech(piper_opts, metrics_sink=metrics_sink)
    if not key:
        key = ctx.keystore.require("elevenlabs")  # raises with the fix
    config = ElevenLabsConfig(api_key=key, base_url=ctx.settings.provider_base_url("elevenlabs"),
                              timeout_s=ctx.settings.get_float("providers.elevenlabs.timeout_s"))
    primary = ElevenLabsSpeech(
        config, options or elevenlabs_options(ctx, use_preferences=use_preferences),
        usage_sink=_usage_sink(ctx) if record_usage else None, metrics_sink=metrics_sink, events=events,
        pricing_dir=ctx.paths.config_dir,
    )
    if not ctx.settings.value(TTS_FALLBACK_TO_PIPER):
        return primary
    return FallbackSpeech(primary, lambda: PiperSpeech(piper_opts, metrics_sink=metrics_sink), events=events,
                          secondary_language=piper_voice_language(piper_opts.voice),
                          secondary_blocked=lambda: _piper_blocked(ctx))


def _piper_blocked(ctx: AppContext) -> str | None:
    """Why the fallback may not speak with Piper (None: it may): the admin's flag, asked when the
    fallback is needed (cached for a minute; a dead database answers from the last known state)."""
    from synthbot_desktop.services import features

    if features.enabled(ctx, PIPER_FLAG):
        return None
    return f"the offline Piper voice is turned off by your administrator (feature flag {PIPER_FLAG})"

