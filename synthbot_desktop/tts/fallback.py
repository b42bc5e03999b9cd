"""Speak with ElevenLabs, and with Piper when ElevenLabs cannot (quota used up, offline).

The switch happens only before any ElevenLabs audio was handed on, so a sentence is never
spoken twice. Quota exhaustion sticks for the session (every request would fail the same
way); network failures are retried with ElevenLabs after a cool-down. Each switch is announced
through the event sink so the user knows why the voice changed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable

from synthbot_desktop.errors import ProviderError, ProviderErrorKind
from synthbot_desktop.pipeline.events import ErrorEvent, EventSink
from synthbot_desktop.tts.base import AudioChunk, SpeechProvider, SpeechRequest

log = logging.getLogger(__name__)

FALLBACK_KINDS = {
    ProviderErrorKind.QUOTA, ProviderErrorKind.CONNECTION, ProviderErrorKind.TIMEOUT,
    ProviderErrorKind.UNAVAILABLE, ProviderErrorKind.RATE_LIMIT,
}


class FallbackSpeech:
    """A SpeechProvider that prefers ``primary`` and falls back to a lazily built ``secondary``."""

    def __init__(self, primary: SpeechProvider, make_secondary: Callable[[], SpeechProvider], *,
                 events: EventSink | None = None, cooldown_s: float = 30.0) -> None:
        self.primary = primary
        self._make_secondary = make_secondary
        self._secondary: SpeechProvider | None = None
        self.events = events
        self.cooldown_s = cooldown_s
        self._primary_off_until = 0.0
        self.last_engine: str | None = None
        self.name = primary.name

    @property
    def secondary(self) -> SpeechProvider:
        if self._secondary is None:
            self._secondary = self._make_secondary()
        return self._secondary

    def _announce(self, error: ProviderError) -> None:
        message = f"{error.one_line()} — speaking with the offline Piper voice instead"
        log.warning("%s", message)
        if self.events is not None:
            try:
                self.events(ErrorEvent(message=message, kind="engine_fallback", recoverable=True))
            except Exception:
                log.exception("event sink failed")

    async def stream(self, request: SpeechRequest) -> AsyncIterator[AudioChunk]:
        if time.monotonic() >= self._primary_off_until:
            handed_on = False
            try:
                async for chunk in self.primary.stream(request):
                    handed_on = True
                    self.last_engine = self.primary.name
                    yield chunk
                return
            except ProviderError as error:
                if handed_on or error.kind not in FALLBACK_KINDS:
                    raise
                self._primary_off_until = (float("inf") if error.kind is ProviderErrorKind.QUOTA
                                           else time.monotonic() + self.cooldown_s)
                self._announce(error)
        async for chunk in self.secondary.stream(request):
            self.last_engine = self.secondary.name
            yield chunk

    async def aclose(self) -> None:
        await self.primary.aclose()
        if self._secondary is not None:
            await self._secondary.aclose()
