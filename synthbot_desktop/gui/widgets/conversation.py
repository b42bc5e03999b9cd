"""The conversation view: user and assistant bubbles, the assistant's text streaming in.

A plain QScrollArea of QLabel bubbles: conversations are short-lived on screen (history is in
the database), so a model/view list would add complexity without benefit. Streaming appends
to the open bubble's text; the view follows the bottom only when the user has not scrolled up.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QScrollArea, QSizePolicy, QVBoxLayout, QWidget


def _wrapping_policy(horizontal: QSizePolicy.Policy = QSizePolicy.Policy.Preferred) -> QSizePolicy:
    """Vertical Preferred (not Minimum): a wrapped label's size hint is its height at a narrow width,
    and as a minimum that left a large blank area after the last message (#21); height for width
    must stay on (a fresh QSizePolicy drops it)."""
    policy = QSizePolicy(horizontal, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    return policy


class Bubble(QFrame):
    """One message. ``role`` is user/assistant/system; its look comes from the style sheet."""

    def __init__(self, role: str, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.setObjectName(f"bubble_{role}")
        self.setProperty("role", role)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(_wrapping_policy())
        layout.addWidget(self.label)
        self.note = QLabel("")
        self.note.setObjectName("bubble_note")
        self.note.setWordWrap(True)  # an error note is long: it wraps, the bubble never outgrows the view
        self.note.setSizePolicy(_wrapping_policy(QSizePolicy.Policy.Ignored))  # the bubble's width, wrapped
        self.note.hide()
        layout.addWidget(self.note)

    def text(self) -> str:
        return self.label.text()

    def append(self, text: str) -> None:
        self.label.setText(self.label.text() + text)

    def set_text(self, text: str) -> None:
        self.label.setText(text)

    def set_note(self, note: str) -> None:
        # URLs and paths have no spaces to wrap at: allow a break after each slash.
        self.note.setText(note.replace("/", "/\u200b"))
        self.note.setVisible(bool(note))


class ConversationView(QScrollArea):
    """Bubbles in a column; user messages right-aligned, the assistant's left-aligned."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversation")
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._inner = QWidget()
        self._inner.setObjectName("conversation_inner")
        self._column = QVBoxLayout(self._inner)
        self._column.setContentsMargins(16, 16, 16, 16)
        self._column.setSpacing(10)
        self._column.addStretch(1)
        self.setWidget(self._inner)
        self._bubbles: list[Bubble] = []
        self._open: dict[str, Bubble] = {}  # turn_id -> assistant bubble still streaming
        self._partial: Bubble | None = None
        self.placeholder = QLabel("Press and hold the talk button (or Space) and speak — or type below.")
        self.placeholder.setObjectName("placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self._column.insertWidget(0, self.placeholder)
        # Follow the bottom: whenever the content grows (a bubble, a streamed word, a wrapped line
        # laid out later) and the person had not scrolled up, jump to the new bottom. Deciding at
        # the moment the range changes, not when the text is set, is what makes it reliable: the
        # layout runs later than setText (issue #21: the view stayed behind in hands-free).
        self._stick = True
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        bar.valueChanged.connect(self._value_changed)

    # Bubbles -------------------------------------------------------------------------------
    def bubbles(self) -> list[Bubble]:
        return list(self._bubbles)

    def add_message(self, role: str, text: str) -> Bubble:
        self.placeholder.hide()
        bubble = Bubble(role, text)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if role == "user":
            row.addStretch(1)
            row.addWidget(bubble, 4)
        else:
            row.addWidget(bubble, 4)
            row.addStretch(1)
        holder = QWidget()
        holder.setLayout(row)
        self._column.insertWidget(self._column.count() - 1, holder)
        self._bubbles.append(bubble)
        self._follow()
        return bubble

    def clear(self) -> None:
        for bubble in self._bubbles:
            holder = bubble.parentWidget()
            if holder is not None:
                holder.deleteLater()
        self._bubbles.clear()
        self._open.clear()
        self._partial = None
        self._stick = True  # a new or reopened conversation shows its latest message
        self.placeholder.show()

    def remove_turn(self, turn_id: str) -> int:
        """Take a withdrawn turn off the screen (its words come back in the merged turn that follows)."""
        gone = [b for b in self._bubbles if b.property("turn_id") == turn_id]
        open_bubble = self._open.pop(turn_id, None)
        if open_bubble is not None and open_bubble not in gone:
            gone.append(open_bubble)
        for bubble in gone:
            self._bubbles.remove(bubble)
            holder = bubble.parentWidget()
            if holder is not None:
                holder.hide()
                holder.deleteLater()
        if not self._bubbles:
            self.placeholder.show()
        return len(gone)

    # Streaming -----------------------------------------------------------------------------
    def show_partial(self, text: str) -> None:
        """What the user is saying, as far as heard; replaced by the final transcript."""
        if self._partial is None:
            self._partial = self.add_message("user", text)
            self._partial.setProperty("partial", True)
        else:
            self._partial.set_text(text)

    def add_user(self, text: str) -> Bubble:
        if self._partial is not None:
            bubble, self._partial = self._partial, None
            bubble.set_text(text)
            bubble.setProperty("partial", False)
            return bubble
        return self.add_message("user", text)

    def append_assistant(self, turn_id: str, text: str) -> Bubble:
        bubble = self._open.get(turn_id)
        if bubble is None:
            bubble = self.add_message("assistant", "")
            self._open[turn_id] = bubble
        bubble.append(text)
        self._follow()
        return bubble

    def finish_assistant(self, turn_id: str, text: str, *, interrupted: bool = False,
                         full_text: str | None = None, error: str | None = None) -> Bubble:
        bubble = self._open.pop(turn_id, None) or self.add_message("assistant", "")
        if text or not bubble.text():
            bubble.set_text(text)
        if interrupted:
            bubble.set_note("interrupted")
            if full_text and full_text != text:
                bubble.setToolTip("Not spoken: " + full_text[len(text):].strip())
        elif error:
            bubble.set_note(error)
        return bubble

    def bubble_for(self, turn_id: str) -> Bubble | None:
        return self._open.get(turn_id)

    def at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 40

    def scroll_to_bottom(self) -> None:
        self._stick = True
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _range_changed(self, _low: int, high: int) -> None:
        if self._stick:
            self.verticalScrollBar().setValue(high)

    def _value_changed(self, _value: int) -> None:
        self._stick = self.at_bottom()  # scrolled up to read: stay there until back at the bottom

    def _follow(self) -> None:
        if self._stick:
            # The scroll bar is the timer's context: a view closed before the timer fires cancels it.
            bar = self.verticalScrollBar()
            QTimer.singleShot(0, bar, lambda: bar.setValue(bar.maximum()))
