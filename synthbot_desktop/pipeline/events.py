"""Events the core emits for front ends (GUI, CLI --json, tests).

Plain frozen dataclasses: the GUI bridge turns them into queued Qt signals; the CLI prints
them; tests collect them. Emitters must never block on a sink.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from synthbot_desktop.errors import ErrorKind


class TurnState(enum.StrEnum):
    IDLE = "idle"
    LISTENING = "listening"  # microphone open, waiting for speech
    HEARING = "hearing"  # speech in progress
    TRANSCRIBING = "transcribing"
    THINKING = "thinking"  # waiting for the LLM's first words
    SPEAKING = "speaking"
    ERROR = "error"


@dataclass(frozen=True)
class StateChanged:
    state: TurnState
    turn_id: str | None = None


@dataclass(frozen=True)
class InputLevel:
    rms_dbfs: float
    peak_dbfs: float


@dataclass(frozen=True)
class PartialTranscript:
    text: str
    turn_id: str | None = None


@dataclass(frozen=True)
class FinalTranscript:
    text: str
    turn_id: str
    language: str | None = None
    confidence: float | None = None


@dataclass(frozen=True)
class AssistantDelta:
    """A piece of the reply as it streams in (append to the bubble)."""

    text: str
    turn_id: str


@dataclass(frozen=True)
class AssistantDone:
    text: str  # what the user heard (the spoken prefix when interrupted)
    turn_id: str
    interrupted: bool = False
    full_text: str | None = None  # what the model generated
    error: str | None = None
    message_uid: str | None = None  # the stored assistant message (rating it from the window, #17)


@dataclass(frozen=True)
class PlaybackProgress:
    turn_id: str
    seconds_played: float
    text_spoken: str


@dataclass(frozen=True)
class TurnTimings:
    """Per-stage timestamps (seconds since speech end, or absolute monotonic) and durations."""

    turn_id: str
    timings: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ErrorEvent:
    message: str
    hint: str | None = None
    kind: ErrorKind | None = None  # a StrEnum: still compares equal to its old string value
    recoverable: bool = True
    action: str | None = None  # e.g. "open_settings:providers"


@dataclass(frozen=True)
class SessionChanged:
    session_id: int
    title: str | None = None


@dataclass(frozen=True)
class TurnRetracted:
    """The user kept talking before the reply was heard: this turn is withdrawn without a reply.

    Its transcript and any streamed reply text should disappear from the screen; the words come
    back as part of the merged turn that follows (a new ``FinalTranscript``).
    """

    turn_id: str
    transcript: str


@dataclass(frozen=True)
class ToolRunning:
    """A tool has been running longer than the filler delay (~1 s): show "running <name>" (the
    filler "One moment." is spoken by the turn itself), so the user knows why it is quiet."""

    name: str
    turn_id: str
    call_id: str = ""


@dataclass(frozen=True)
class ToolCalled:
    """The model called a tool and it starts now (the conversation shows a collapsed row, #16).
    ``arguments``: the JSON text as the model wrote it, redacted and capped (``tools.records``)."""

    name: str
    turn_id: str
    call_id: str = ""
    arguments: str = ""


@dataclass(frozen=True)
class ToolDone:
    """A tool call finished (clears the "running <name>" state; ``is_error``: it failed or was refused).
    ``arguments`` and ``result`` are redacted and capped, as stored with the turn."""

    name: str
    turn_id: str
    call_id: str = ""
    is_error: bool = False
    arguments: str = ""
    result: str = ""


@dataclass(frozen=True)
class ToolConfirmRequest:
    """A side-effect tool wants to run: ask the user, then call ``answer(True/False)`` (from any
    thread, once). No answer within the asker's timeout counts as "no"."""

    name: str
    arguments: str  # JSON text, shortened, for the question
    answer: Callable[[bool], None] = field(compare=False, repr=False, default=lambda _ok: None)


@dataclass(frozen=True)
class TimerFired:
    """A timer or reminder the model set (``set_timer``) went off: notify the user."""

    label: str


@dataclass(frozen=True)
class Preparing:
    """Long one-off work before the app can listen (assembling the multilingual model on first
    use: ~145 MB copied and checksummed): the window shows how far it is instead of a silent wait."""

    what: str
    done: int
    total: int


Event = (StateChanged | InputLevel | PartialTranscript | FinalTranscript | AssistantDelta | AssistantDone
         | PlaybackProgress | TurnTimings | ErrorEvent | SessionChanged | TurnRetracted | ToolCalled | ToolRunning | ToolDone
         | ToolConfirmRequest | TimerFired | Preparing)
EventSink = Callable[[Event], None]
