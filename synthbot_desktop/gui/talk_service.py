"""What the main window needs from the conversation engine, and how it finds one.

The window speaks only this small protocol; every method is non-blocking (the work runs on
the engine thread) and all results come back as ``pipeline.events`` through the EventSink.
That keeps the widgets testable with any engine and lets the engine evolve without the GUI.
"""

from __future__ import annotations

import logging
from typing import Protocol, runtime_checkable

from synthbot_desktop.errors import ErrorKind
from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.services.voice import VoiceChoice

log = logging.getLogger(__name__)


@runtime_checkable
class TalkService(Protocol):
    def start_listening(self, hands_free: bool) -> None:
        """Open the microphone; hands-free keeps taking turns until stop_listening."""

    def stop_listening(self) -> None:
        """Push-to-talk released or hands-free switched off: end the current utterance."""

    def send_text(self, text: str) -> None:
        """A typed message: same turn as speech, minus the transcription."""

    def regenerate(self, text: str) -> None:
        """Answer the last message (``text``) again through the same turn path as a typed message;
        the earlier answer leaves the model's context (``pipeline.session.drop_last_exchange``)."""

    def resend_edited(self, old_text: str, new_text: str) -> None:
        """Edit-and-resend: the last question (``old_text``) and its answer leave the model's
        context, and ``new_text`` is answered through the same turn path as a typed message."""

    def interrupt(self) -> None:
        """Stop the assistant now (LLM, TTS and playback) and keep what was said."""

    def new_session(self) -> None: ...

    def resume_session(self, session_id: int) -> None: ...

    def configure(self, *, provider: str | None = None, model: str | None = None,
                  voice: VoiceChoice | None = None, persona_id: int | None = None) -> None:
        """Use these for the next turn (switchers in the window)."""

    def follow_settings(self, keys: set[str]) -> None:
        """Settings were saved: provider, model and voice come from them again from the next turn."""

    def set_persona(self, persona_id: int | None) -> None:
        """The persona picker: its prompt, model and voice from the next turn (None = none)."""

    def set_muted(self, muted: bool) -> None:
        """The mute button: the microphone hears nothing while muted."""

    def set_mode(self, mode: str) -> None:
        """Conversation mode: "normal" or "enhanced" (docs/enhanced-mode.md), from the next turn."""

    def shutdown(self) -> None: ...


class UnavailableTalkService:
    """Stands in when the engine cannot be built, and says why on every attempt."""

    def __init__(self, sink: ev.EventSink, reason: str, hint: str | None = None) -> None:
        self._sink = sink
        self.reason = reason
        self.hint = hint

    def _explain(self) -> None:
        self._sink(ev.ErrorEvent(self.reason, hint=self.hint, kind=ErrorKind.ENGINE, action="open_settings"))
        self._sink(ev.StateChanged(ev.TurnState.IDLE))

    def start_listening(self, hands_free: bool) -> None:
        self._explain()

    def stop_listening(self) -> None:
        pass

    def send_text(self, text: str) -> None:
        self._explain()

    def regenerate(self, text: str) -> None:
        self._explain()

    def resend_edited(self, old_text: str, new_text: str) -> None:
        self._explain()

    def interrupt(self) -> None:
        pass

    def new_session(self) -> None:
        pass

    def resume_session(self, session_id: int) -> None:
        pass

    def configure(self, *, provider: str | None = None, model: str | None = None,
                  voice: VoiceChoice | None = None, persona_id: int | None = None) -> None:
        pass

    def follow_settings(self, keys: set[str]) -> None:
        pass

    def set_persona(self, persona_id: int | None) -> None:
        pass

    def set_muted(self, muted: bool) -> None:
        pass

    def set_mode(self, mode: str) -> None:
        pass

    def shutdown(self) -> None:
        pass
