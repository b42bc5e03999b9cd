"""Speak with ElevenLabs, and with Piper when ElevenLabs cannot (quota used up, offline).

The switch happens only before any ElevenLabs audio was handed on, so a sentence is never
spoken twice. Quota exhaustion sticks for the session (every request would fail the same
way); network failures are retried with ElevenLabs after a cool-down. Each switch is announced
through the event sink so the user knows why the voice changed.

The offline voice speaks one language (the bundled Piper voice is English). A reply in another
language is never read by it: the fallback raises :class:`OfflineLanguageError` instead, and the
turn keeps that reply as text and tells the user once (pipeline/turn.py).

An admin may turn the offline voice off (feature flag ``feature.tts.piper``, issue #18): then a
failure that would have switched raises :class:`FallbackBlockedError` instead, one line naming
the primary's failure and the flag; the turn keeps the reply as text. The flag is asked at the
moment of the switch (off the event loop), so a running window follows the admin's change.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable

from synthbot_desktop import language as lang
from synthbot_desktop.errors import ErrorKind, ProviderError, ProviderErrorKind, SynthbotError
from synthbot_desktop.pipeline.events import ErrorEvent, EventSink
from synthbot_desktop.tts.base import AudioChunk, SpeechProvider, SpeechRequest

log = logging.getLogger(__name__)

FALLBACK_KINDS = {
    ProviderErrorKind.QUOTA, ProviderErrorKind.CONNECTION, ProviderErrorKind.TIMEOUT,
    ProviderErrorKind.UNAVAILABLE, ProviderErrorKind.RATE_LIMIT,
}


class OfflineLanguageError(SynthbotError):
    """The primary engine failed and the offline voice cannot speak the reply's language.

    ``reason`` is the primary's failure (quota, offline, ...), kept so the user hears why, and
    ``info`` its provider details, so the usage row records the real cause.
    """

    def __init__(self, language: str, voice_language: str, reason: ProviderError | None) -> None:
        name = lang.language_name(language)
        super().__init__(f"the offline voice speaks {lang.language_name(voice_language)} only, not {name}",
                         hint=reason.hint if reason is not None else None)
        self.language = language
        self.voice_language = voice_language
        self.reason = reason
        self.info = getattr(reason, "info", None)


class FallbackBlockedError(SynthbotError):
    """The primary engine failed and the admin turned the offline voice off: nothing is spoken.

    ``reason`` is the primary's failure; ``info`` and ``kind`` are its provider facts, so the
    usage row and the error log record the real cause (quota, offline, ...).
    """

    def __init__(self, blocked: str, reason: ProviderError | None) -> None:
        cause = reason.message if reason is not None else "the speech engine failed"
        super().__init__(f"{cause}, and {blocked}", hint="ask your administrator, or try again later")
        self.reason = reason
        self.info = getattr(reason, "info", None)
        self.kind = getattr(reason, "kind", None)


class FallbackSpeech:
    """A SpeechProvider that prefers ``primary`` and falls back to a lazily built ``secondary``.

    ``secondary_language`` is the language of the secondary's voice (None: not known, no check);
    requests in another language are refused rather than read in the wrong language.
    ``secondary_blocked`` says why the secondary may not be used right now (None: it may); it
    may block (it can read the feature flags from the database) and runs in a worker thread.
    """

    def __init__(self, primary: SpeechProvider, make_secondary: Callable[[], SpeechProvider], *,
                 events: EventSink | None = None, cooldown_s: float = 30.0,
                 secondary_language: str | None = None,
                 secondary_blocked: Callable[[], str | None] | None = None) -> None:
        self.primary = primary
        self._make_secondary = make_secondary
        self._secondary: SpeechProvider | None = None
        self.secondary_language = lang.base_language(secondary_language)
        self._last_error: ProviderError | None = None
        self.events = events
        self.cooldown_s = cooldown_s
        self._primary_off_until = 0.0
        self._secondary_blocked = secondary_blocked
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
                self.events(ErrorEvent(message=message, kind=ErrorKind.ENGINE_FALLBACK, recoverable=True))
            except Exception:
                log.exception("event sink failed")

    def _secondary_refuses(self, request: SpeechRequest) -> str | None:
        """The request's language when the secondary voice cannot speak it, else None.

        Only a known non-English language is refused: unknown or English text keeps the old
        behaviour (the offline voice reads it), so `speak` and English turns are unchanged.
        """
        wanted = lang.base_language(request.language)
        if self.secondary_language is None or lang.is_english(wanted) or wanted == self.secondary_language:
            return None
        return wanted

    async def _refuse_if_blocked(self) -> None:
        if self._secondary_blocked is None:
            return
        blocked = await asyncio.to_thread(self._secondary_blocked)
        if blocked is not None:
            reason = self._last_error
            log.info("%s; %s: nothing is spoken", reason.one_line() if reason else "speech failed", blocked)
            raise FallbackBlockedError(blocked, reason) from None

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
                self._last_error = error
                await self._refuse_if_blocked()
                refused = self._secondary_refuses(request)
                if refused is not None:  # not "speaking with Piper instead": the turn says it stays text
                    log.warning("%s; the %s reply stays text", error.one_line(), lang.language_name(refused))
                    raise OfflineLanguageError(refused, self.secondary_language or "en", error) from None
                self._announce(error)
        else:
            await self._refuse_if_blocked()
        refused = self._secondary_refuses(request)
        if refused is not None:
            raise OfflineLanguageError(refused, self.secondary_language or "en", self._last_error)
        async for chunk in self.secondary.stream(request):
            self.last_engine = self.secondary.name
            yield chunk

    async def aclose(self) -> None:
        await self.primary.aclose()
        if self._secondary is not None:
            await self._secondary.aclose()
