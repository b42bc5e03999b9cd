"""The conversation view: user and assistant bubbles, the assistant's text streaming in.

A plain QScrollArea of bubbles: conversations are short-lived on screen (history is in the
database), so a model/view list would add complexity without benefit. Streaming appends to the
open bubble's text; the view follows the bottom only when the user has not scrolled up.

A reply renders its Markdown (``reply_text``), and carries a footer: when it was said, how long
the person waited for it ("0.62 s to first sound", from the turn's own timings), and Copy,
Regenerate (the last reply only) and Good/Bad. The last question offers Edit (edit-and-resend).
The view only *asks* for regeneration, edits and ratings (signals); the window and its adapter
(``gui/conversation_actions.py``) do the work, off the GUI thread. While a turn runs, Regenerate
and Edit are disabled (``set_busy``): redoing an exchange that is still being answered would race it.
Tool calls of a turn appear as collapsed rows (``tool_row``) above its reply.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.gui.widgets.reply_text import ReplyText
from synthbot_desktop.gui.widgets.tool_row import ToolRow


def _wrapping_policy(horizontal: QSizePolicy.Policy = QSizePolicy.Policy.Preferred) -> QSizePolicy:
    """Vertical Preferred (not Minimum): a wrapped label's size hint is its height at a narrow width,
    and as a minimum that left a large blank area after the last message (#21); height for width
    must stay on (a fresh QSizePolicy drops it)."""
    policy = QSizePolicy(horizontal, QSizePolicy.Policy.Preferred)
    policy.setHeightForWidth(True)
    return policy


def latency_text(timings: dict[str, Any]) -> str | None:
    """The wait a person felt, from the turn's timings (ms since the end of their speech or the
    moment a typed message was sent): to the first reply sound when it was spoken, else to the
    first word on screen. None when the turn reported neither (nothing is made up)."""
    for key, what in (("first_sample_played", "to first sound"), ("first_token", "to first word")):
        value = timings.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return f"{value / 1000:.2f} s {what}"
    return None


def clock_text(when: dt.datetime, now: dt.datetime | None = None) -> str:
    """"14:05" today, "3 Dec 14:05" on another day (local time; a naive time is UTC, as stored)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone()
    today = (now or dt.datetime.now().astimezone()).date()
    return local.strftime("%H:%M") if local.date() == today else f"{local.day} {local.strftime('%b %H:%M')}"


class Bubble(QFrame):
    """One message. ``role`` is user/assistant/system; its look comes from the style sheet.

    An assistant bubble renders Markdown and has a footer with its time, its latency and its
    actions; ``text()`` is always the source text as the model wrote it.
    """

    copied = Signal(str)
    regenerateRequested = Signal()
    editRequested = Signal()
    rated = Signal(int)  # +1 good, -1 bad

    def __init__(self, role: str, text: str = "", parent: QWidget | None = None,
                 when: dt.datetime | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self.setObjectName(f"bubble_{role}")
        self.setProperty("role", role)
        self.message_uid: str | None = None  # the stored message (set when the turn is done)
        self.message_id: int | None = None  # known for a conversation read back from History
        self.rating = 0
        self.previous_rating = 0
        self.when = when or dt.datetime.now().astimezone()
        self.latency: str | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 6)
        layout.setSpacing(4)
        self.reply: ReplyText | None = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setSizePolicy(_wrapping_policy())
        if role == "assistant":
            self.reply = ReplyText()
            self.reply.set_markdown(text)
            self.label.hide()
            layout.addWidget(self.reply)
        else:
            self.label.setTextFormat(Qt.TextFormat.PlainText)  # what the person said, never markup
            self.label.setText(text)
            self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                               | Qt.TextInteractionFlag.TextSelectableByKeyboard)
            layout.addWidget(self.label)
        self.note = QLabel("")
        self.note.setObjectName("bubble_note")
        self.note.setWordWrap(True)  # an error note is long: it wraps, the bubble never outgrows the view
        self.note.setSizePolicy(_wrapping_policy(QSizePolicy.Policy.Ignored))  # the bubble's width, wrapped
        self.note.hide()
        layout.addWidget(self.note)
        self.footer = QWidget()
        self.footer.setObjectName("bubble_footer")
        row = QHBoxLayout(self.footer)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.meta = QLabel()
        self.meta.setObjectName("bubble_meta")
        self.meta.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        # Smaller than the message (size only: colours stay the theme's, light or dark).
        self.meta.setStyleSheet("QLabel#bubble_meta { font-size: 11px; }")
        row.addWidget(self.meta, 1)
        self.copy_button = self._action("Copy", "Copy this reply's text", "copy")
        self.regenerate_button = self._action("Regenerate", "Answer the last message again", "regenerate")
        self.good_button = self._action("Good", "Thumbs up: a good reply", "rate_good", checkable=True)
        self.bad_button = self._action("Bad", "Thumbs down: a bad reply", "rate_bad", checkable=True)
        self.edit_button = self._action("Edit", "Edit your last message and send it again", "edit")
        for button in (self.copy_button, self.regenerate_button, self.good_button, self.bad_button,
                       self.edit_button):
            row.addWidget(button)
            button.setVisible(False)
        self.copy_button.clicked.connect(self.copy_text)
        self.regenerate_button.clicked.connect(self.regenerateRequested.emit)
        self.edit_button.clicked.connect(self.editRequested.emit)
        self.good_button.clicked.connect(lambda: self._rate(1))
        self.bad_button.clicked.connect(lambda: self._rate(-1))
        layout.addWidget(self.footer)
        self._show_meta()

    def _action(self, text: str, tip: str, name: str, *, checkable: bool = False) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setText(text)
        button.setToolTip(tip)
        button.setAccessibleName(tip)
        button.setAutoRaise(True)
        button.setCheckable(checkable)
        button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        return button

    # Text ----------------------------------------------------------------------------------
    def text(self) -> str:
        return self.reply.markdown() if self.reply is not None else self.label.text()

    def append(self, text: str) -> None:
        if self.reply is not None:
            self.reply.stream_markdown(self.reply.markdown() + text)  # rendered at most every 50 ms
        else:
            self.label.setText(self.label.text() + text)

    def set_text(self, text: str) -> None:
        if self.reply is not None:
            self.reply.set_markdown(text)
        else:
            self.label.setText(text)

    def set_note(self, note: str) -> None:
        # URLs and paths have no spaces to wrap at: allow a break after each slash.
        self.note.setText(note.replace("/", "/\u200b"))
        self.note.setVisible(bool(note))

    # Footer --------------------------------------------------------------------------------
    def set_latency(self, text: str | None) -> None:
        self.latency = text
        self._show_meta()

    def _show_meta(self) -> None:
        parts = [clock_text(self.when)]
        if self.latency:
            parts.append(self.latency)
        self.meta.setText(" · ".join(parts))

    def set_actions(self, *, done: bool, last: bool = False, busy: bool = False) -> None:
        """A finished reply offers Copy and a rating, the last one also Regenerate; the last
        question offers Edit. Regenerate and Edit stay visible but disabled while a turn runs."""
        if self.role == "user":
            self.edit_button.setVisible(last)
            self.edit_button.setEnabled(not busy)
            return
        if self.role != "assistant":
            return
        for button in (self.copy_button, self.good_button, self.bad_button):
            button.setVisible(done)
        self.regenerate_button.setVisible(done and last)
        self.regenerate_button.setEnabled(not busy)

    def copy_text(self) -> None:
        QGuiApplication.clipboard().setText(self.text())
        self.copied.emit(self.text())

    def _rate(self, rating: int) -> None:
        self.previous_rating = self.rating  # shown again if storing the new one fails
        self.show_rating(rating)
        self.rated.emit(rating)

    def show_rating(self, rating: int) -> None:
        self.rating = rating
        self.good_button.setChecked(rating == 1)
        self.bad_button.setChecked(rating == -1)


class ConversationView(QScrollArea):
    """Bubbles in a column; user messages right-aligned, the assistant's left-aligned."""

    regenerateRequested = Signal(object)  # the last reply's Bubble
    editRequested = Signal(object)  # the last question's Bubble
    ratingRequested = Signal(object, int)  # Bubble, +1 / -1

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
        self._tools: list[ToolRow] = []
        self._busy = False  # a turn runs: Regenerate and Edit are disabled
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

    def tool_rows(self) -> list[ToolRow]:
        return list(self._tools)

    def add_message(self, role: str, text: str, when: dt.datetime | None = None) -> Bubble:
        self.placeholder.hide()
        bubble = Bubble(role, text, when=when)
        if role == "assistant":
            bubble.regenerateRequested.connect(lambda: self.regenerateRequested.emit(bubble))
            bubble.rated.connect(lambda rating: self.ratingRequested.emit(bubble, rating))
        elif role == "user":
            bubble.editRequested.connect(lambda: self.editRequested.emit(bubble))
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
        for tool in self._tools:
            tool.deleteLater()
        self._bubbles.clear()
        self._tools.clear()
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
        for tool in [t for t in self._tools if t.turn_id == turn_id]:
            self._tools.remove(tool)
            tool.hide()
            tool.deleteLater()
        if not self._bubbles:
            self.placeholder.show()
        self.refresh_actions()
        return len(gone)

    def remove_reply(self, bubble: Bubble) -> None:
        """Take one reply (and its turn's tool rows) off the screen: it is being regenerated."""
        turn_id = bubble.property("turn_id")
        if bubble in self._bubbles:
            self._bubbles.remove(bubble)
            holder = bubble.parentWidget()
            if holder is not None:
                holder.hide()
                holder.deleteLater()
        for tool in [t for t in self._tools if turn_id and t.turn_id == turn_id]:
            self._tools.remove(tool)
            tool.hide()
            tool.deleteLater()
        self.refresh_actions()

    def last_reply(self) -> Bubble | None:
        """The newest finished reply: the only one that can be regenerated."""
        for bubble in reversed(self._bubbles):
            if bubble.role == "user":
                return None  # a question without its answer yet
            if bubble.role == "assistant" and bubble not in self._open.values():
                return bubble
        return None

    def last_question(self) -> Bubble | None:
        """The newest user message, the only one that can be edited and sent again (None while
        the person is still speaking it)."""
        for bubble in reversed(self._bubbles):
            if bubble.role == "user":
                return None if bubble.property("partial") else bubble
        return None

    def remove_exchange(self, question: Bubble) -> None:
        """Take a question and everything after it (its reply, that turn's tool rows) off the
        screen: it is being replaced by an edited one."""
        if question not in self._bubbles:
            return
        gone = self._bubbles[self._bubbles.index(question):]
        turns = {b.property("turn_id") for b in gone} - {None, ""}
        for bubble in gone:
            self._bubbles.remove(bubble)
            for turn_id, open_bubble in list(self._open.items()):
                if open_bubble is bubble:
                    del self._open[turn_id]
            holder = bubble.parentWidget()
            if holder is not None:
                holder.hide()
                holder.deleteLater()
        for tool in [t for t in self._tools if t.turn_id in turns]:
            self._tools.remove(tool)
            tool.hide()
            tool.deleteLater()
        if not self._bubbles:
            self.placeholder.show()
        self.refresh_actions()

    def question_before(self, bubble: Bubble) -> str | None:
        """The user's message that ``bubble`` answers (what Regenerate sends again)."""
        if bubble not in self._bubbles:
            return None
        for earlier in reversed(self._bubbles[:self._bubbles.index(bubble)]):
            if earlier.role == "user":
                return earlier.text()
        return None

    def refresh_actions(self) -> None:
        """Finished replies offer Copy and a rating; only the last one offers Regenerate, only
        the last question Edit."""
        last = self.last_reply()
        question = self.last_question()
        for bubble in self._bubbles:
            if bubble.role == "assistant":
                bubble.set_actions(done=bubble not in self._open.values(), last=bubble is last, busy=self._busy)
            elif bubble.role == "user":
                bubble.set_actions(done=True, last=bubble is question, busy=self._busy)

    def set_busy(self, busy: bool) -> None:
        """A turn started (or ended): Regenerate and Edit are disabled until it is over."""
        if busy != self._busy:
            self._busy = busy
            self.refresh_actions()

    # Tools ---------------------------------------------------------------------------------
    def tool_started(self, turn_id: str, name: str, call_id: str = "", arguments: str = "") -> ToolRow:
        """A collapsed row for a tool call, placed above the turn's reply (the text after a tool
        round continues in that reply), or at the end when no reply text came yet."""
        self.placeholder.hide()
        row = ToolRow(name, turn_id, call_id, arguments)
        reply = self._open.get(turn_id)
        holder = reply.parentWidget() if reply is not None else None
        index = self._column.indexOf(holder) if holder is not None else -1
        self._column.insertWidget(index if index >= 0 else self._column.count() - 1, row)
        self._tools.append(row)
        self._follow()
        return row

    def tool_finished(self, turn_id: str, name: str, call_id: str = "", *, arguments: str = "",
                      result: str = "", is_error: bool = False) -> ToolRow:
        """The call ended: its row says so (a call never announced gets its row now)."""
        row = next((t for t in self._tools if t.turn_id == turn_id and not t.finished
                    and (t.call_id == call_id if call_id else t.name == name)), None)
        if row is None:
            row = self.tool_started(turn_id, name, call_id, arguments)
        row.finish(arguments=arguments, result=result, is_error=is_error)
        return row

    # Streaming -----------------------------------------------------------------------------
    def show_partial(self, text: str) -> None:
        """What the user is saying, as far as heard; replaced by the final transcript."""
        if self._partial is None:
            self._partial = self.add_message("user", text)
            _set_partial(self._partial, True)
            self.refresh_actions()  # the question before is no longer the last one
        else:
            self._partial.set_text(text)

    def add_user(self, text: str) -> Bubble:
        if self._partial is not None:
            bubble, self._partial = self._partial, None
            bubble.set_text(text)
            _set_partial(bubble, False)
            self.refresh_actions()
            return bubble
        bubble = self.add_message("user", text)
        self.refresh_actions()  # a new question: the previous reply is no longer the one to redo
        return bubble

    def append_assistant(self, turn_id: str, text: str) -> Bubble:
        bubble = self._open.get(turn_id)
        if bubble is None:
            bubble = self.add_message("assistant", "")
            self._open[turn_id] = bubble
            self.refresh_actions()
        bubble.append(text)
        self._follow()
        return bubble

    def finish_assistant(self, turn_id: str, text: str, *, interrupted: bool = False,
                         full_text: str | None = None, error: str | None = None) -> Bubble:
        bubble = self._open.pop(turn_id, None) or self.add_message("assistant", "")
        if full_text and not interrupted and not error:
            text = full_text  # the model's Markdown; ``text`` is what was spoken (its speech form, plain)
        if text or not bubble.text():
            bubble.set_text(text)
        if interrupted:
            bubble.set_note("interrupted")
            if full_text and full_text != text:
                bubble.setToolTip("Not spoken: " + full_text[len(text):].strip())
        elif error:
            bubble.set_note(error)
        self.refresh_actions()
        return bubble

    def bubble_for_turn(self, turn_id: str, role: str = "assistant") -> Bubble | None:
        """The turn's bubble of ``role`` (streaming or done)."""
        open_bubble = self._open.get(turn_id) if role == "assistant" else None
        if open_bubble is not None:
            return open_bubble
        for bubble in reversed(self._bubbles):
            if bubble.role == role and bubble.property("turn_id") == turn_id:
                return bubble
        return None

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


def _set_partial(bubble: QWidget, partial: bool) -> None:
    """Mark a user bubble as a live caption (or the sent words). A dynamic property only restyles
    after a re-polish of the bubble and its labels; without it the caption looked exactly like a
    sent message (seen in the caption screenshot)."""
    bubble.setProperty("partial", partial)
    bubble.setAccessibleDescription("what you are saying, so far" if partial else "")
    for w in (bubble, *bubble.findChildren(QWidget)):
        w.style().unpolish(w)
        w.style().polish(w)
