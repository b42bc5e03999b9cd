"""A non-modal error banner: the cause, the fix, where to fix it ("Open settings") and "Retry"."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from synthbot_desktop.services import error_reports

# Actions the core may name in ErrorEvent.action, with the button text shown for them.
ACTION_LABELS = {
    "open_settings": "Open settings",
    "retry": "Try again",
}


def action_label(action: str | None) -> str | None:
    if not action:
        return None
    return ACTION_LABELS.get(action.split(":", 1)[0])


class ErrorBanner(QFrame):
    """Hidden until :meth:`show_error`; the window keeps working underneath."""

    actionTriggered = Signal(str)  # the ErrorEvent.action string
    retryRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("error_banner")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        # The row decides the width and the text wraps to it: a long URL never widens the window.
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.message.setSizePolicy(policy)
        self.message.setObjectName("error_text")
        layout.addWidget(self.message, 1)
        self.action_button = QPushButton("")
        self.action_button.clicked.connect(self._act)
        layout.addWidget(self.action_button)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("banner_retry")
        self.retry_button.setToolTip("Send the last message again")
        self.retry_button.clicked.connect(self._retry)
        layout.addWidget(self.retry_button)
        self.close_button = QPushButton("Dismiss")
        self.close_button.setObjectName("banner_dismiss")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.close_button)
        self._action: str | None = None
        self.hide()

    def show_error(self, message: str, hint: str | None = None, action: str | None = None,
                   retry: bool = False) -> None:
        """``retry``: a turn failed and can be sent again (the window knows what was said)."""
        text = message if not hint else f"{message} — {hint}"
        error_reports.shown("gui.banner", text)  # filed in error_logs off the GUI thread (issue #18)
        self.message.setText(text.replace("/", "/\u200b"))  # URLs may break after a slash
        self._action = action
        label = action_label(action)
        self.action_button.setVisible(label is not None)
        self.action_button.setText(label or "")
        self.retry_button.setVisible(retry)
        self.show()

    def text(self) -> str:
        return self.message.text().replace("\u200b", "")

    def _retry(self) -> None:
        self.hide()
        self.retryRequested.emit()

    def _act(self) -> None:
        if self._action:
            self.actionTriggered.emit(self._action)
        self.hide()
