"""A coloured dot plus a word: listening / hearing / thinking / speaking / error.

The dot's shade comes from the palette (brighter on a dark window) and is redrawn when the
palette changes, so a light/dark switch never leaves a dark-blue dot on a black window."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QLabel, QWidget

from synthbot_desktop.gui.theme import accent
from synthbot_desktop.pipeline.events import TurnState

COLOURS = {
    TurnState.IDLE: "#8a939c", TurnState.LISTENING: "#2e7dd9", TurnState.HEARING: "#2e9d5b",
    TurnState.TRANSCRIBING: "#7a5bd9", TurnState.THINKING: "#d9a62b", TurnState.SPEAKING: "#d9622b",
    TurnState.ERROR: "#c62828",
}
WORDS = {
    TurnState.IDLE: "Ready", TurnState.LISTENING: "Listening", TurnState.HEARING: "Hearing",
    TurnState.TRANSCRIBING: "Transcribing", TurnState.THINKING: "Thinking", TurnState.SPEAKING: "Speaking",
    TurnState.ERROR: "Error",
}


class StateIndicator(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("state_indicator")
        self.state = TurnState.IDLE
        self.muted = False
        self.set_state(TurnState.IDLE)

    def set_state(self, state: TurnState, muted: bool = False) -> None:
        """``muted``: the microphone is muted, said next to the state (listening while muted hears nothing)."""
        self.state, self.muted = state, muted
        colour = self.dot_colour()
        word = WORDS.get(state, str(state)) + (" (microphone muted)" if muted else "")
        self.setText(f'<span style="color:{colour}; font-size:16px">●</span> {word}')
        self.setAccessibleName(f"State: {word}")

    def dot_colour(self) -> str:
        """The dot's colour for the current state on the current palette (a ``#rrggbb`` name)."""
        return accent(COLOURS.get(self.state, "#8a939c"), self.palette()).name()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.set_state(self.state, self.muted)
        super().changeEvent(event)
