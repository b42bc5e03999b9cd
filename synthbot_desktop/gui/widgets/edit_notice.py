"""The line above the message box while the last question is being edited.

Why a visible line: the edited text sits in the ordinary message box, and without a word saying
so, Enter would look like sending a new message — but it *replaces* the last exchange. Cancel
(or Esc) leaves the conversation as it was.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget


class EditNotice(QFrame):
    """"Editing your last message…" with a Cancel button; hidden until an edit starts."""

    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("edit_notice")
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 0, 0, 0)
        self.label = QLabel("Editing your last message: Enter replaces it and its answer. Esc cancels.")
        self.label.setObjectName("edit_notice_text")
        self.label.setWordWrap(True)
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cancel_button = QPushButton("Cancel edit")
        self.cancel_button.setObjectName("cancel_edit")
        self.cancel_button.setAccessibleName("Cancel editing the last message")
        self.cancel_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        row.addWidget(self.label, 1)
        row.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self.cancelled.emit)
        self.setAccessibleName("Editing the last message")
        self.hide()
