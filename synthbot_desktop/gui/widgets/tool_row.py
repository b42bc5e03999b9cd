"""One tool call in the conversation (#16): a collapsed row "Used tool: get_time" that expands
to the call's arguments and result.

Arguments and result arrive already redacted from the core (``tools.records``); they are shown
as plain text (never rich text: a tool's output is not trusted markup) and redacted once more
here, because a row is on screen and in screenshots.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QFrame, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from synthbot_desktop.redaction import redact

DETAIL_LIMIT = 2_000  # characters of arguments / result shown; the stored message has more


def _short(text: str) -> str:
    text = redact(text or "").strip()
    return text if len(text) <= DETAIL_LIMIT else text[:DETAIL_LIMIT] + "…"


class ToolRow(QFrame):
    """A tool call of a turn: running, then done (or failed), collapsed until clicked."""

    def __init__(self, name: str, turn_id: str, call_id: str = "", arguments: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("tool_row")
        self.name = name
        self.turn_id = turn_id
        self.call_id = call_id
        self.arguments = _short(arguments)
        self.result = ""
        self.is_error = False
        self.finished = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 2, 8, 2)
        layout.setSpacing(2)
        self.toggle = QToolButton()
        self.toggle.setObjectName("tool_toggle")
        self.toggle.setCheckable(True)
        self.toggle.setAutoRaise(True)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.toggled.connect(self.set_expanded)
        layout.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        self.details = QLabel()
        self.details.setObjectName("tool_details")
        self.details.setTextFormat(Qt.TextFormat.PlainText)
        self.details.setWordWrap(True)
        self.details.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                             | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        policy = QSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)  # wraps at the row's width: a long result never widens the view
        self.details.setSizePolicy(policy)
        self.details.hide()
        layout.addWidget(self.details)
        self._refresh()

    def title(self) -> str:
        return self.toggle.text()

    def finish(self, *, arguments: str = "", result: str = "", is_error: bool = False) -> None:
        if arguments:
            self.arguments = _short(arguments)
        self.result = _short(result)
        self.is_error = is_error
        self.finished = True
        self._refresh()

    def set_expanded(self, on: bool) -> None:
        self.toggle.blockSignals(True)
        self.toggle.setChecked(on)
        self.toggle.blockSignals(False)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if on else Qt.ArrowType.RightArrow)
        self.details.setVisible(on)

    def expanded(self) -> bool:
        return self.toggle.isChecked()

    def _refresh(self) -> None:
        if not self.finished:
            title = f"Using tool: {self.name}…"
        elif self.is_error:
            title = f"Tool failed: {self.name}"
        else:
            title = f"Used tool: {self.name}"
        self.toggle.setText(title)
        self.toggle.setAccessibleName(title + " (show details)")
        self.toggle.setToolTip("Show the arguments and the result")
        parts = [f"Arguments: {self.arguments or '{}'}"]
        if self.finished:
            parts.append(("Error: " if self.is_error else "Result: ") + (self.result or "(empty)"))
        self.details.setText("\n".join(parts))


__all__ = ["ToolRow"]
