"""Which voice speaks: one typed choice, one rule, the tuning saved for that very voice.

The rule (used by ``talk`` and by the window alike): an explicit choice (``--engine/--voice``, the
voice switcher) beats the persona's voice, which beats the user's default (their default ElevenLabs
voice preference, else the ``tts.*`` settings). ``tts.engine = auto`` is resolved here and nowhere
else: ElevenLabs when a key is stored, otherwise the offline Piper voice ``tts.piper.voice``.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from synthbot_desktop.errors import DatabaseError, SecretStoreError, UsageError
from synthbot_desktop.storage import voices as voice_repo
from synthbot_desktop.tts.base import AudioChunk, SpeechRequest
from synthbot_desktop.tts.elevenlabs_speech import ElevenLabsOptions
from synthbot_desktop.tts.piper_engine import PiperOptions
from synthbot_desktop.tts.voice_settings import merge

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)

SPEECH_ENGINES = ("elevenlabs", "piper")


@dataclass(frozen=True)
class VoiceChoice:
    """A concrete voice: the engine that speaks and that engine's voice id (never ``auto``)."""

    engine: str
    voice_id: str

    def __post_init__(self) -> None:
        if self.engine not in SPEECH_ENGINES:
            raise UsageError(f"unknown speech engine {self.engine!r}", hint=f"use one of: {', '.join(SPEECH_ENGINES)}")

    @property
    def key(self) -> str:
        """A stable text form for widgets' item data (``engine:voice``); parse it back with :meth:`parse`."""
        return f"{self.engine}:{self.voice_id}"

    @classmethod
    def parse(cls, text: str) -> VoiceChoice:
        engine, sep, voice = text.partition(":")
        if not sep or not voice:
            raise UsageError(f"not a voice: {text!r}", hint="expected engine:voice, e.g. piper:joe-us")
        return cls(engine, voice)


def has_elevenlabs_key(ctx: AppContext) -> bool:
    try:
        return bool(ctx.keystore.get("elevenlabs"))
    except SecretStoreError as exc:
        log.warning("cannot read the ElevenLabs key: %s", exc.one_line())
        return False


def resolve_engine(ctx: AppContext, engine: str | None = None) -> str:
    """The one place ``auto`` becomes a real engine (None = the ``tts.engine`` setting)."""
    from synthbot_desktop.services import features

    engine = engine or ctx.settings.get_str("tts.engine")
    if engine == "auto":  # an engine the admin turned off is not picked automatically (issue #18)
        engine = "elevenlabs" if has_elevenlabs_key(ctx) and features.enabled(ctx, "feature.tts.elevenlabs") \
            else "piper"
    elif engine not in SPEECH_ENGINES:
        raise UsageError(f"unknown speech engine {engine!r}", hint="use one of: auto, elevenlabs, piper")
    features.require(ctx, f"feature.tts.{engine}", f"the {engine} voice engine")
    return engine


def _default_preference(ctx: AppContext) -> voice_repo.VoicePreference | None:
    try:
        with ctx.db.session() as s:
            return voice_repo.default_preference(s, ctx.user_id, "elevenlabs")
    except DatabaseError as exc:
        log.warning("voice preferences unavailable, using settings: %s", exc.one_line())
        return None


def default_voice(ctx: AppContext, engine: str | None = None) -> VoiceChoice:
    """The user's default voice for ``engine`` (None/auto = the resolved ``tts.engine``)."""
    engine = resolve_engine(ctx, engine)
    if engine == "piper":
        return VoiceChoice("piper", ctx.settings.get_str("tts.piper.voice"))
    pref = _default_preference(ctx)
    return VoiceChoice("elevenlabs", pref.voice_id if pref else ctx.settings.get_str("tts.elevenlabs.voice_id"))


def resolve_voice(ctx: AppContext, *, explicit: VoiceChoice | None = None, engine: str | None = None,
                  voice_id: str | None = None, persona_voice: str | None = None) -> VoiceChoice:
    """Explicit > persona > the user's default.

    ``explicit`` is a full choice (the switcher); ``engine``/``voice_id`` are the CLI's separate
    flags (either may be missing: the other half comes from the default for that engine).
    A persona's voice is an ElevenLabs voice id (or ``engine:voice``); it is skipped, with a log
    line, when it cannot be spoken (no ElevenLabs key).
    """
    from synthbot_desktop.services import features

    if explicit is not None:
        features.require(ctx, f"feature.tts.{explicit.engine}", f"the {explicit.engine} voice engine")
        return explicit
    if engine is not None or voice_id is not None:
        real = resolve_engine(ctx, engine)
        if voice_id:
            return VoiceChoice(real, voice_id)
        return default_voice(ctx, real)
    if persona_voice:
        choice = VoiceChoice.parse(persona_voice) if ":" in persona_voice else VoiceChoice("elevenlabs", persona_voice)
        if not features.enabled(ctx, f"feature.tts.{choice.engine}"):
            log.info("the persona's %s voice is turned off by the administrator: using the default voice",
                     choice.engine)
        elif choice.engine == "piper" or has_elevenlabs_key(ctx):
            return choice
        else:
            log.info("the persona's ElevenLabs voice needs an ElevenLabs key: using the default voice")
    return default_voice(ctx)


def elevenlabs_options_for(ctx: AppContext, voice_id: str) -> ElevenLabsOptions:
    """Settings for ``voice_id``, overlaid with the tuning the user saved for THAT voice (if any)."""
    from synthbot_desktop.tts.registry import elevenlabs_settings_options, with_preference

    opts = elevenlabs_settings_options(ctx, voice_id)
    try:
        with ctx.db.session() as s:
            pref = voice_repo.get_preference(s, ctx.user_id, "elevenlabs", voice_id)
    except DatabaseError as exc:
        log.warning("voice preferences unavailable, using settings: %s", exc.one_line())
        return opts
    return with_preference(opts, pref)


def piper_options_for(ctx: AppContext, voice_id: str) -> PiperOptions:
    g = ctx.settings
    return PiperOptions(voice=voice_id, length_scale=g.get_float("tts.piper.length_scale"),
                        noise_scale=g.get_float("tts.piper.noise_scale"), noise_w=g.get_float("tts.piper.noise_w"),
                        speaker_id=g.get_int("tts.piper.speaker_id"))


class TunedSpeech:
    """An ElevenLabs speech provider that always speaks with the tuning saved for its voice *now*.

    The window keeps one provider per voice for the whole session, built with the tuning saved at
    that moment; "Save as default" in Settings afterwards never reached the turns (issue #21,
    defect 3: only Preview sent the new ``voice_settings``). Before each request this wrapper
    compares ``voice_service.preferences_revision()`` with the one its tuning was read at and,
    when it moved, re-reads the tuning of THIS voice off the event loop (``asyncio.to_thread``: a
    DB read). The fresh tuning goes into the request, where it wins over the provider's build-time
    options; the request's own settings (if a caller gave any) still win over both. Everything
    else (``name``, ``audio_format``, ``warm``, ``voice_fallbacks``…) is the wrapped provider's.
    """

    def __init__(self, inner: Any, ctx: AppContext, voice_id: str, *, revision: int,
                 options: ElevenLabsOptions) -> None:
        self.inner = inner
        self._ctx = ctx
        self.voice_id = voice_id
        self._revision = revision
        self._options = options

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    @property
    def tuning(self) -> ElevenLabsOptions:
        """The options (voice tuning, model) the next request will use."""
        return self._options

    async def refresh(self) -> None:
        """Re-read this voice's saved tuning when a preference was stored since the last read."""
        import asyncio

        from synthbot_desktop.tts.voice_service import preferences_revision

        current = preferences_revision()
        if current == self._revision:
            return
        self._options = await asyncio.to_thread(elevenlabs_options_for, self._ctx, self.voice_id)
        self._revision = current

    async def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]:
        await self.refresh()
        opts = self._options
        if request.voice_id in (None, self.voice_id):
            request = dataclasses.replace(request, settings=merge(opts.settings, request.settings),
                                          model_id=request.model_id or opts.model_id)
        async for chunk in self.inner.stream(request):
            yield chunk

    async def aclose(self) -> None:
        await self.inner.aclose()


def tuned_elevenlabs(ctx: AppContext, build: Callable[[ElevenLabsOptions], Any], voice_id: str) -> TunedSpeech:
    """``build(options)`` for ``voice_id`` with its saved tuning, kept current by :class:`TunedSpeech`
    (blocking: reads the preference)."""
    from synthbot_desktop.tts.voice_service import preferences_revision

    revision = preferences_revision()  # read BEFORE the tuning: a save in between is seen next time
    options = elevenlabs_options_for(ctx, voice_id)
    return TunedSpeech(build(options), ctx, voice_id, revision=revision, options=options)
