"""The big talk button: hold to talk (push-to-talk) or click to toggle, per the mode.

It only reports intent (``pressedToTalk`` / ``released`` / ``toggled``); the main window
decides what the engine does. Keyboard push-to-talk is handled by the window, which forwards
key press/release here so mouse and key behave the same.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from synthbot_desktop.pipeline.events import TurnState

STATE_TEXT = {
    TurnState.IDLE: "Hold to talk",
    TurnState.LISTENING: "Listening…",
    TurnState.HEARING: "Hearing you…",
    TurnState.TRANSCRIBING: "Transcribing…",
    TurnState.THINKING: "Thinking…",
    TurnState.SPEAKING: "Speaking — tap to interrupt",
    TurnState.ERROR: "Try again",
}


class TalkButton(QPushButton):
    pressedToTalk = Signal()
    releasedToTalk = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(STATE_TEXT[TurnState.IDLE], parent)
        self.setObjectName("talk_button")
        self.setMinimumSize(QSize(220, 64))
        self.hands_free = False
        self.held = False
        self.pressed.connect(self._press)
        self.released.connect(self._release)

    def set_hands_free(self, on: bool) -> None:
        self.hands_free = on
        self.setCheckable(on)
        if not on:
            self.setChecked(False)

    def set_state(self, state: TurnState) -> None:
        text = STATE_TEXT.get(state, str(state))
        if state == TurnState.IDLE and self.hands_free:
            text = "Start hands-free"
        if state == TurnState.LISTENING and self.hands_free:
            text = "Listening — click to stop"
        self.setText(text)
        self.setProperty("state", str(state))
        self.style().unpolish(self)
        self.style().polish(self)

    def _press(self) -> None:
        if not self.hands_free and not self.held:
            self.held = True
            self.pressedToTalk.emit()

    def _release(self) -> None:
        if not self.hands_free and self.held:
            self.held = False
            self.releasedToTalk.emit()
