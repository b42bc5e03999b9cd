"""What the GUI's voice page and the ``voices`` command do: catalog, preferences, preview.

Everything here works from an AppContext so both front ends share the rules (the voice catalog
itself is ``services.voice_catalog``); preferences are validated before
they are stored; "reset" copies the voice's own defaults from ElevenLabs (or from the cached
catalog when offline); a preview speaks with unsaved settings without storing them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING

from synthbot_desktop.errors import ProviderError, ProviderErrorKind, UsageError
from synthbot_desktop.storage import voices as repo
from synthbot_desktop.storage.voices import VoicePreference
from synthbot_desktop.tts.base import AudioFormat, SpeechProvider, SpeechRequest, VoiceSettings
from synthbot_desktop.tts.elevenlabs_api import ElevenLabsApi, ElevenLabsConfig, ModelInfo, Subscription
from synthbot_desktop.tts.elevenlabs_speech import ElevenLabsOptions
from synthbot_desktop.tts.voice_settings import (
    DEFAULT_SETTINGS,
    from_json,
    merge,
    to_json,
    validate,
    validate_output_format,
)

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

PROVIDER = "elevenlabs"
PREVIEW_TEXT = "Hello! This is how I will sound when I answer you."

_revision = 0


def preferences_revision() -> int:
    """A number that changes whenever this process stores a voice preference.

    Speech providers are long-lived (the window keeps one per voice), so the tuning they were
    built with goes stale when the person saves new tuning in Settings. They compare this
    number before each request and re-read the tuning only when it moved (issue #21, defect 3).
    """
    return _revision


def _preferences_changed() -> None:
    global _revision
    _revision += 1


def api_for(ctx: AppContext) -> ElevenLabsApi:
    config = ElevenLabsConfig(api_key=ctx.keystore.require(PROVIDER),
                              base_url=ctx.settings.provider_base_url(PROVIDER),
                              timeout_s=ctx.settings.get_float("providers.elevenlabs.timeout_s"))
    return ElevenLabsApi(config)


async def tts_models(ctx: AppContext) -> list[ModelInfo]:
    """The models of the account that can speak (``can_do_text_to_speech``)."""
    api = api_for(ctx)
    try:
        return [m for m in await api.models() if m.can_do_text_to_speech]
    finally:
        await api.aclose()


async def subscription(ctx: AppContext) -> Subscription:
    api = api_for(ctx)
    try:
        return await api.subscription()
    finally:
        await api.aclose()


def preferences(ctx: AppContext) -> list[VoicePreference]:
    with ctx.db.session() as s:
        return repo.list_preferences(s, ctx.user_id, PROVIDER)


def settings_of(pref: VoicePreference) -> VoiceSettings:
    return VoiceSettings(pref.stability, pref.similarity_boost, pref.style, pref.use_speaker_boost, pref.speed)


def save_preference(ctx: AppContext, voice_id: str, *, settings: VoiceSettings | None = None,
                    model_id: str | None = None, output_format: str | None = None,
                    make_default: bool | None = None) -> VoicePreference:
    """Store the user's tuning of ``voice_id``; values not given keep what was saved before."""
    voice_id = voice_id.strip()
    if not voice_id:
        raise UsageError("a voice id is required", hint="see `synthbot-desktop voices list`")
    if output_format is not None:
        validate_output_format(output_format)
    with ctx.db.session() as s:
        old = repo.get_preference(s, ctx.user_id, PROVIDER, voice_id)
        base = settings_of(old) if old else VoiceSettings()
        merged = validate(merge(base, settings or VoiceSettings()))
        pref = VoicePreference(
            voice_id=voice_id, provider=PROVIDER, model_id=model_id or (old.model_id if old else None),
            stability=merged.stability, similarity_boost=merged.similarity_boost, style=merged.style,
            use_speaker_boost=merged.use_speaker_boost, speed=merged.speed,
            output_format=output_format or (old.output_format if old else None),
            is_default=make_default if make_default is not None else (old.is_default if old else False),
        )
        saved = repo.save_preference(s, ctx.user_id, pref)
    _preferences_changed()  # after the commit: a reader that sees the new number sees the new row
    return saved


async def voice_defaults(ctx: AppContext, voice_id: str) -> VoiceSettings:
    """The voice's own defaults from ElevenLabs; offline, the cached ones (or the API's generic)."""
    try:
        api = api_for(ctx)
        try:
            settings = await api.voice_settings(voice_id)
        finally:
            await api.aclose()
    except ProviderError as exc:
        if exc.kind not in (ProviderErrorKind.CONNECTION, ProviderErrorKind.TIMEOUT, ProviderErrorKind.UNAVAILABLE):
            raise
        with ctx.db.session() as s:
            cached = repo.get_voice(s, PROVIDER, voice_id)
        return from_json(cached.default_settings) if cached and cached.default_settings else DEFAULT_SETTINGS
    with ctx.db.session() as s:
        repo.set_voice_defaults(s, PROVIDER, voice_id, to_json(settings))
    return settings


async def reset_to_defaults(ctx: AppContext, voice_id: str) -> VoicePreference:
    """Replace the five settings of the user's ``voice_id`` preference with the voice's defaults."""
    defaults = merge(DEFAULT_SETTINGS, await voice_defaults(ctx, voice_id))
    with ctx.db.session() as s:
        old = repo.get_preference(s, ctx.user_id, PROVIDER, voice_id)
        pref = VoicePreference(voice_id=voice_id, provider=PROVIDER, model_id=old.model_id if old else None,
                               stability=defaults.stability, similarity_boost=defaults.similarity_boost,
                               style=defaults.style, use_speaker_boost=defaults.use_speaker_boost,
                               speed=defaults.speed, output_format=old.output_format if old else None,
                               is_default=old.is_default if old else False)
        saved = repo.save_preference(s, ctx.user_id, pref)
    _preferences_changed()
    return saved


@dataclass(frozen=True)
class PreviewAudio:
    pcm: bytes
    format: AudioFormat
    engine: str

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (self.format.sample_rate * self.format.sample_width * self.format.channels)


async def collect(provider: SpeechProvider, request: SpeechRequest) -> PreviewAudio:
    """All audio of one request (for previews and files; playback should stream instead)."""
    parts: list[bytes] = []
    fmt: AudioFormat | None = None
    async for chunk in provider.stream(request):
        fmt = fmt or chunk.format
        parts.append(chunk.pcm)
    if fmt is None:
        raise UsageError("the text produced no audio", hint="give some words to speak")
    return PreviewAudio(b"".join(parts), fmt, provider.name)


async def preview(ctx: AppContext, settings: VoiceSettings, *, voice_id: str | None = None,
                  text: str = PREVIEW_TEXT, model_id: str | None = None, engine: str = "elevenlabs") -> PreviewAudio:
    """Speak ``text`` with unsaved ``settings`` over the saved ones; nothing is stored but usage."""
    from synthbot_desktop.tts.registry import create_speech_provider, elevenlabs_options

    validate(settings)
    opts = elevenlabs_options(ctx)
    if voice_id:
        with ctx.db.session() as s:
            saved = repo.get_preference(s, ctx.user_id, PROVIDER, voice_id)
        base = settings_of(saved) if saved else VoiceSettings()
        opts = dataclasses.replace(opts, voice_id=voice_id, settings=base,
                                   model_id=(saved.model_id if saved and saved.model_id else opts.model_id))
    opts = ElevenLabsOptions(**{**dataclasses.asdict(opts), "settings": merge(opts.settings, settings)})
    provider = create_speech_provider(engine, ctx, options=opts)
    try:
        return await collect(provider, SpeechRequest(text, voice_id=voice_id, model_id=model_id))
    finally:
        await provider.aclose()

