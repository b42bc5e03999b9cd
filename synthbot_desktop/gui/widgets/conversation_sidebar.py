"""The Talk tab's conversation sidebar: recent conversations, newest first, and "New conversation".

Only the widget: it shows what it is given and *asks* (signals) for a new conversation, for one
to be opened, or for its own state to be kept. Reading the list (off the GUI thread) and
resuming a conversation live in the window's adapter, ``gui/conversation_sidebar.py``.

Collapsed, it is a narrow strip with one button, so a 700 px window keeps its room for the
conversation; expanded, a fixed-width column beside the conversation (never beside the top bar,
which must keep its width to wrap well).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.gui.widgets.conversation import clock_text

EXPANDED_WIDTH = 230
TOGGLE_SHORTCUT = "Ctrl+Shift+S"
ACTIVITY_ROLE = Qt.ItemDataRole.UserRole + 1  # the "last active" line of a row
PAD = 6


def activity_text(when: dt.datetime | None, now: dt.datetime | None = None) -> str:
    """"14:05" today, "3 Dec 14:05" another day, as the bubbles say it."""
    return clock_text(when, now) if when is not None else "no messages yet"


class _RowDelegate(QStyledItemDelegate):
    """A row as two lines: the title, and under it the last activity, smaller and dimmer; both
    elided to the column's width. (Plain two-line item text read as one undivided block.)"""

    def _fonts(self, option: QStyleOptionViewItem) -> tuple[QFont, QFont]:
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, small.pointSizeF() * 0.85))
        return option.font, small

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        title, small = self._fonts(option)
        height = QFontMetrics(title).height() + QFontMetrics(small).height() + 2 * PAD
        return QSize(EXPANDED_WIDTH - 20, height)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        title_text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        activity = str(index.data(ACTIVITY_ROLE) or "")
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        title_font, small = self._fonts(option)
        rect: QRect = opt.rect.adjusted(PAD, PAD, -PAD, -PAD)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        palette: QPalette = opt.palette
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.save()
        painter.setFont(title_font)
        painter.setPen(palette.color(text_role))
        line = QFontMetrics(title_font)
        painter.drawText(QRect(rect.left(), rect.top(), rect.width(), line.height()),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         line.elidedText(title_text, Qt.TextElideMode.ElideRight, rect.width()))
        painter.setFont(small)
        if not selected:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        metrics = QFontMetrics(small)
        painter.drawText(QRect(rect.left(), rect.top() + line.height(), rect.width(), metrics.height()),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         metrics.elidedText(activity, Qt.TextElideMode.ElideRight, rect.width()))
        painter.restore()


class ConversationSidebar(QFrame):
    """A collapsible list of recent conversations with "New conversation" at the top."""

    newRequested = Signal()
    openRequested = Signal(int)  # a conversation's id
    expandedByPerson = Signal(bool)  # the person opened or closed it (the adapter keeps the choice)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conversation_sidebar")
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 6, 0)
        outer.setSpacing(4)

        self.show_button = self._toggle("»", "Show conversations",
                                        f"Show your recent conversations ({TOGGLE_SHORTCUT})", "sidebar_show")
        outer.addWidget(self.show_button, 0, Qt.AlignmentFlag.AlignTop)

        self.panel = QWidget()
        self.panel.setObjectName("sidebar_panel")
        col = QVBoxLayout(self.panel)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        header = QHBoxLayout()
        title = QLabel("Conversations")
        title.setObjectName("sidebar_title")
        title.setStyleSheet("QLabel#sidebar_title { font-weight: 600; }")
        self.hide_button = self._toggle("«", "Hide conversations",
                                        f"Hide the conversation list ({TOGGLE_SHORTCUT})", "sidebar_hide")
        header.addWidget(title, 1)
        header.addWidget(self.hide_button)
        col.addLayout(header)
        self.new_button = QPushButton("New conversation")
        self.new_button.setObjectName("sidebar_new")
        self.new_button.setAccessibleName("Start a new conversation")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        col.addWidget(self.new_button)
        self.list = QListWidget()
        self.list.setObjectName("conversation_list")
        self.list.setAccessibleName("Recent conversations")
        self.list.setToolTip("Click a conversation (or press Enter on it) to continue it")
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(True)
        self.list.setItemDelegate(_RowDelegate(self.list))
        col.addWidget(self.list, 1)
        self.status = QLabel("")
        self.status.setObjectName("sidebar_status")
        self.status.setWordWrap(True)
        self.status.hide()
        col.addWidget(self.status)
        outer.addWidget(self.panel, 1)

        self.show_button.clicked.connect(lambda: self.set_expanded(True, by_person=True))
        self.hide_button.clicked.connect(lambda: self.set_expanded(False, by_person=True))
        self.new_button.clicked.connect(self.newRequested.emit)
        self.list.itemClicked.connect(self._open_item)
        self.list.itemActivated.connect(self._open_item)  # Enter on the focused row
        self.expanded = True
        self.set_expanded(False)

    def _toggle(self, text: str, name: str, tip: str, object_name: str) -> QToolButton:
        button = QToolButton()
        button.setObjectName(object_name)
        button.setText(text)
        button.setAccessibleName(name)
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    # State -----------------------------------------------------------------------------------
    def set_expanded(self, expanded: bool, *, by_person: bool = False) -> None:
        """Open or close the list; ``by_person`` also reports it (a resize in "auto" does not)."""
        changed = expanded != self.expanded
        self.expanded = expanded
        self.panel.setVisible(expanded)
        self.show_button.setVisible(not expanded)
        self.setFixedWidth(EXPANDED_WIDTH if expanded else self.show_button.sizeHint().width() + 6)
        if by_person:
            (self.list if expanded else self.show_button).setFocus(Qt.FocusReason.ShortcutFocusReason)
            if changed:
                self.expandedByPerson.emit(expanded)

    def toggle(self) -> None:
        """The keyboard shortcut: open (focus on the list) or close."""
        self.set_expanded(not self.expanded, by_person=True)

    # Content ---------------------------------------------------------------------------------
    def show_conversations(self, rows: Sequence[Any], current: int | None = None) -> None:
        """``rows`` newest first (``services.recent_conversations.RecentConversation``)."""
        self.list.blockSignals(True)
        self.list.clear()
        for r in rows:
            when = activity_text(r.last_activity)
            item = QListWidgetItem(r.title)
            item.setData(Qt.ItemDataRole.UserRole, r.id)
            item.setData(ACTIVITY_ROLE, when)
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{r.title}, last active {when}")
            item.setToolTip(f"{r.title}\n{r.message_count} messages · last active {when}")
            self.list.addItem(item)
        self.list.blockSignals(False)
        self.status.setText("" if rows else "No conversations yet.")
        self.status.setVisible(not rows)
        self.select(current)

    def show_error(self, message: str) -> None:
        self.status.setText(f"Conversations unavailable: {message}")
        self.status.show()

    def select(self, session_id: int | None) -> None:
        """Highlight the conversation on screen (none for a new one)."""
        self.list.blockSignals(True)
        self.list.clearSelection()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if session_id is not None and item.data(Qt.ItemDataRole.UserRole) == session_id:
                self.list.setCurrentItem(item)
                break
        self.list.blockSignals(False)

    def rows(self) -> list[tuple[str, str]]:
        """(title, last activity) of each row, as shown."""
        return [(self.list.item(i).text(), str(self.list.item(i).data(ACTIVITY_ROLE)))
                for i in range(self.list.count())]

    def ids(self) -> list[int]:
        return [int(self.list.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.list.count())]

    def _open_item(self, item: QListWidgetItem) -> None:
        session_id = item.data(Qt.ItemDataRole.UserRole)
        if session_id is not None:
            self.openRequested.emit(int(session_id))
