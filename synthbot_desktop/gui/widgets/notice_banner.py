"""An in-window notice (a fired reminder) for desktops without a tray: text and "Dismiss".

Separate from the error banner on purpose: a reminder is not an error (it is not filed in
error_logs, has no Retry) and both may be visible at once.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget


class NoticeBanner(QFrame):
    """Hidden until :meth:`show_notice`; the newest notice replaces the one shown."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice_banner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        self.message = QLabel("")
        self.message.setObjectName("notice_text")
        self.message.setWordWrap(True)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)  # a long label wraps instead of widening the window
        self.message.setSizePolicy(policy)
        layout.addWidget(self.message, 1)
        self.close_button = QPushButton("Dismiss")
        self.close_button.setObjectName("notice_dismiss")
        self.close_button.clicked.connect(self.hide)
        layout.addWidget(self.close_button)
        self.hide()

    def show_notice(self, title: str, body: str) -> None:
        self.message.setText(f"<b>{_escape(title)}</b> — {_escape(body)}")
        self.setAccessibleName(f"{title}: {body}")
        self.show()

    def text(self) -> str:
        return self.accessibleName()


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
