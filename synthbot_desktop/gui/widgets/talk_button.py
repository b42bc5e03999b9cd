"""The big talk button: hold to talk (push-to-talk) or click to toggle, per the mode.

It only reports intent (``pressedToTalk`` / ``released`` / ``toggled``); the main window
decides what the engine does. Keyboard push-to-talk is handled by the window, which forwards
key press/release here so mouse and key behave the same.

Its width never changes with its text (issue #21, defect 14: "Hold to talk" → "Speaking — tap
to interrupt" widened it and pushed Mute and Stop sideways under the pointer): the size hint is
that of the widest text it can show, measured with the current font and style.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtWidgets import QPushButton, QStyle, QStyleOptionButton, QWidget

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
HANDS_FREE_TEXT = {
    TurnState.IDLE: "Start hands-free",
    TurnState.LISTENING: "Listening — click to stop",
}
ALL_TEXTS = (*STATE_TEXT.values(), *HANDS_FREE_TEXT.values())


def button_text(state: TurnState, hands_free: bool) -> str:
    if hands_free and state in HANDS_FREE_TEXT:
        return HANDS_FREE_TEXT[state]
    return STATE_TEXT.get(state, str(state))


class TalkButton(QPushButton):
    pressedToTalk = Signal()
    releasedToTalk = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(STATE_TEXT[TurnState.IDLE], parent)
        self.setObjectName("talk_button")
        self.setMinimumSize(QSize(220, 64))
        self._widest: QSize | None = None  # measured lazily; font or style changes measure again
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
        self.setText(button_text(state, self.hands_free))
        self.setProperty("state", str(state))
        self.style().unpolish(self)
        self.style().polish(self)

    # Size: the widest text, whatever is shown now ---------------------------------------------
    def _text_size(self, text: str) -> QSize:
        opt = QStyleOptionButton()
        self.initStyleOption(opt)
        opt.text = text
        contents = self.fontMetrics().size(Qt.TextFlag.TextShowMnemonic, text)
        if not self.icon().isNull():
            contents.setWidth(contents.width() + opt.iconSize.width() + 4)
        return self.style().sizeFromContents(QStyle.ContentsType.CT_PushButton, opt, contents, self)

    def sizeHint(self) -> QSize:
        if self._widest is None:
            sizes = [self._text_size(t) for t in ALL_TEXTS]
            self._widest = QSize(max(s.width() for s in sizes), max(s.height() for s in sizes))
        return self._widest.expandedTo(self.minimumSize())

    def minimumSizeHint(self) -> QSize:
        return self.sizeHint()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._widest = None
            self.updateGeometry()
        super().changeEvent(event)

    def _press(self) -> None:
        if not self.hands_free and not self.held:
            self.held = True
            self.pressedToTalk.emit()

    def _release(self) -> None:
        if not self.hands_free and self.held:
            self.held = False
            self.releasedToTalk.emit()
