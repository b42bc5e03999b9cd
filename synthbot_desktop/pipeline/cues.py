"""Sound cues and spoken errors: what to play when, decided from the turn's events (no Qt, no audio).

Voice users cannot see the window: a short tone says "I'm listening", another "your turn was
sent", a low one "that failed"; when a spoken turn fails, a short sentence in the local (offline)
voice says what happened — the banner alone is invisible from across the room (issue #21).

:class:`CuePolicy` watches the events a front end receives and returns what to do; the front
end only plays the tones (:func:`cue_tone`) on its speaker and speaks the sentence. Tones are
generated here, so no asset can be missing; they are short and quiet (well below speech) so the
microphone does not take them for a person starting to talk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from synthbot_desktop.pipeline import events as ev

CueKind = Literal["listening", "sent", "error"]
CUE_RATE = 22050
CUE_LEVEL_DBFS = -24.0

# (frequencies played one after the other, seconds per tone)
_TONES: dict[str, tuple[tuple[float, ...], float]] = {
    "listening": ((587.0, 880.0), 0.05),  # rising: the microphone is open
    "sent": ((988.0,), 0.045),  # one soft blip: heard, working on it
    "error": ((440.0, 311.0), 0.09),  # falling, lower and longer: something failed
}

VOICE_STATES = {ev.TurnState.LISTENING, ev.TurnState.HEARING}
WORK_STATES = {ev.TurnState.TRANSCRIBING, ev.TurnState.THINKING, ev.TurnState.SPEAKING}
REST_STATES = {ev.TurnState.IDLE, ev.TurnState.ERROR}


def cue_tone(kind: str, rate: int = CUE_RATE, level_dbfs: float = CUE_LEVEL_DBFS) -> np.ndarray:
    """The cue as float32 mono samples: sines with 8 ms fades (no clicks)."""
    freqs, seconds = _TONES[kind]
    n = int(rate * seconds)
    t = np.arange(n) / rate
    fade = int(rate * 0.008)
    env = np.ones(n)
    env[:fade] = np.linspace(0.0, 1.0, fade)
    env[-fade:] = np.linspace(1.0, 0.0, fade)
    parts = [np.sin(2 * np.pi * f * t) * env for f in freqs]
    return (np.concatenate(parts) * 10 ** (level_dbfs / 20)).astype(np.float32)


_SPOKEN: dict[str, str] = {
    "authentication": "Sorry, the service did not accept the key. Please check the settings.",
    "keys": "Sorry, a key is missing. Please check the settings.",
    "permission": "Sorry, the key is not allowed to do that. Please check the settings.",
    "rate_limit": "Sorry, the service is busy right now. Please try again in a moment.",
    "quota": "Sorry, the account's quota is used up.",
    "unavailable": "Sorry, the service is not available right now.",
    "connection": "Sorry, I could not reach the service. Please check the connection.",
    "timeout": "Sorry, the service took too long to answer.",
    "model": "Sorry, that model is not available. Please check the settings.",
    "not_found": "Sorry, that model is not available. Please check the settings.",
    "context_too_long": "Sorry, the conversation is too long for this model. Please start a new one.",
    "audio": "Sorry, there is a problem with the audio device.",
    "database": "Sorry, I could not save the conversation.",
    "policy": "Sorry, that is turned off by the administrator.",
    "tts": "Sorry, my voice failed. The answer is on the screen.",
}
# Errors that are notices, not failures: the turn goes on (another voice, normal sampling, text
# for a language the offline voice cannot speak). They are shown in the banner and make no sound.
NOTICE_KINDS = frozenset({"engine_fallback", "voice_fallback", "randomness", "tts_language", "cancelled", ""})

DEFAULT_SPOKEN = "Sorry, something went wrong. The details are on the screen."


def spoken_error_text(event: ev.ErrorEvent) -> str:
    """One short sentence for the error (never its details: they may hold URLs or ids)."""
    return _SPOKEN.get(str(event.kind or ""), DEFAULT_SPOKEN)


@dataclass(frozen=True)
class PlayCue:
    kind: CueKind


@dataclass(frozen=True)
class SayError:
    text: str


Action = PlayCue | SayError


class CuePolicy:
    """Decides cues from the events in order. ``observe`` is cheap and never blocks.

    - "listening" when the microphone opens from rest (not each time a hands-free reply ends:
      a chime after every answer would be noise);
    - "sent" when a spoken utterance is handed on (Hearing → Transcribing/Thinking), once per
      utterance (a withdrawn speculative start is not a second one); typed messages get none
      (the person pressed Enter and sees it);
    - "error" once per failed turn; and, when the failed turn was spoken, the sentence.
    Errors outside a turn (a warning at start, a preview) and notices within one (a fallback
    voice, see :data:`NOTICE_KINDS`) make no sound.
    """

    def __init__(self) -> None:
        self.state: ev.TurnState = ev.TurnState.IDLE
        self.spoken_turn = False  # the turn in progress began with speech
        self._failed = False  # this turn already made its error sound
        self._sent = False  # this utterance already had its "sent" cue

    def observe(self, event: ev.Event, *, cues: bool, spoken_errors: bool) -> list[Action]:
        if isinstance(event, ev.StateChanged):
            return self._state(event.state, cues)
        if isinstance(event, ev.ErrorEvent):
            return self._error(event, cues, spoken_errors)
        return []

    def _state(self, new: ev.TurnState, cues: bool) -> list[Action]:
        old, self.state = self.state, new
        actions: list[Action] = []
        if new == ev.TurnState.LISTENING:
            self._sent = False  # the next utterance is a new one
            if old in REST_STATES:
                self._failed, self.spoken_turn = False, False
                actions.append(PlayCue("listening"))
        elif new == ev.TurnState.HEARING:
            if old != ev.TurnState.HEARING and old not in WORK_STATES:
                self._failed = False  # (from Thinking it is a withdrawn speculative turn: the same utterance)
            self.spoken_turn = True
        elif new in (ev.TurnState.TRANSCRIBING, ev.TurnState.THINKING) and old == ev.TurnState.HEARING:
            if not self._sent:  # a speculative start withdrawn and confirmed later is one utterance, one cue
                actions.append(PlayCue("sent"))
            self._sent = True
        elif new in WORK_STATES and old in REST_STATES | {ev.TurnState.LISTENING}:
            self.spoken_turn, self._failed = False, False  # a typed message
        elif new in REST_STATES:
            self._sent = False
        return actions if cues else []

    def _error(self, event: ev.ErrorEvent, cues: bool, spoken_errors: bool) -> list[Action]:
        in_turn = self.state in WORK_STATES or (self.state == ev.TurnState.HEARING and self.spoken_turn)
        if not in_turn or self._failed or str(event.kind or "") in NOTICE_KINDS:
            return []
        self._failed = True
        actions: list[Action] = []
        if cues:
            actions.append(PlayCue("error"))
        if spoken_errors and self.spoken_turn:
            actions.append(SayError(spoken_error_text(event)))
        return actions


__all__ = ["Action", "CuePolicy", "PlayCue", "SayError", "cue_tone", "spoken_error_text"]
