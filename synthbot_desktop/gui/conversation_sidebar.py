"""What the Talk tab's conversation sidebar needs from the app, hooked on in one line (``install``).

Kept out of ``main_window.py`` like ``conversation_actions``: the list is read on the pool through
``services.recent_conversations`` (History's own ``list_sessions``), never on the GUI thread;
clicking a conversation goes through :meth:`MainWindow.resume_session`, exactly what History's
"Open and continue" does; "New conversation" is the window's own ``new_session``.

It is read again when it can have changed: a conversation was created or continued (its
SessionChanged), a turn ended (its conversation moves to the top), and the Talk tab is shown
again (History may have renamed or deleted one). Stale reads are dropped (a generation count).

Open or closed is ``ui.conversation_sidebar``: "auto" (the default) follows the window's width —
open from :data:`AUTO_OPEN_WIDTH`, so a 700×500 window starts with the conversation's full width —
and the person's own choice (the « / » buttons, Ctrl+Shift+S) is kept as "open" or "closed".
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence, QShortcut
from shiboken6 import isValid

from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import run_job
from synthbot_desktop.gui.widgets.conversation_sidebar import TOGGLE_SHORTCUT, ConversationSidebar
from synthbot_desktop.setting_keys import UI_CONVERSATION_SIDEBAR

log = logging.getLogger(__name__)

AUTO_OPEN_WIDTH = 900  # window width from which "auto" shows the list


class SidebarController(QObject):
    """Feeds ``window.sidebar`` and carries out what it asks."""

    def __init__(self, window: Any, bridge: Any) -> None:
        super().__init__(window)
        self.window = window
        self.ctx = window.ctx
        self.sidebar: ConversationSidebar = window.sidebar
        self._generation = 0
        sidebar = self.sidebar
        sidebar.newRequested.connect(self.new)
        sidebar.openRequested.connect(self.open)
        sidebar.expandedByPerson.connect(self._keep_choice)
        window.new_button.clicked.connect(lambda: sidebar.select(None))
        bridge.sessionChanged.connect(lambda _e: self.refresh())
        bridge.assistantDone.connect(lambda _e: self.refresh(after_turn=True))
        window.tabs.currentChanged.connect(self._tab_changed)
        QShortcut(QKeySequence(TOGGLE_SHORTCUT), window.talk_page, sidebar.toggle)
        window.installEventFilter(self)  # resizes, for "auto"
        self.apply_setting()
        self.refresh()

    # Open or closed --------------------------------------------------------------------------
    def choice(self) -> str:
        value = self.ctx.settings.value(UI_CONVERSATION_SIDEBAR)
        return value if value in ("open", "closed") else "auto"

    def apply_setting(self) -> None:
        choice = self.choice()
        if choice == "auto":
            self.sidebar.set_expanded(self._wide())
        else:
            self.sidebar.set_expanded(choice == "open")

    def _keep_choice(self, expanded: bool) -> None:
        try:
            self.ctx.settings.set(UI_CONVERSATION_SIDEBAR.name, "open" if expanded else "closed")
        except Exception as exc:  # a policy lock or an unwritable file: the choice holds until restart
            log.info("sidebar state not kept: %s", describe(exc))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and obj is self.window and self.choice() == "auto":
            self.sidebar.set_expanded(self._wide())
        return False

    def _wide(self) -> bool:
        return bool(self.window.width() >= AUTO_OPEN_WIDTH)

    # The list --------------------------------------------------------------------------------
    def refresh(self, *, after_turn: bool = False) -> None:
        """Read the recent conversations off the GUI thread; only the newest read is shown."""
        from synthbot_desktop.services.recent_conversations import recent_conversations

        self._generation += 1
        generation = self._generation
        ctx = self.ctx

        def current() -> bool:
            # Only the newest read, and only while the window lives (a read can outlast it).
            return generation == self._generation and isValid(self.sidebar)

        def shown(rows: list[Any]) -> None:
            if current():
                self.sidebar.show_conversations(rows, self.window.session_id)

        def failed(error: BaseException) -> None:
            if current():
                self.sidebar.show_error(describe(error))

        run_job(lambda: recent_conversations(ctx, after_turn=after_turn), shown, failed)

    def open(self, session_id: int) -> None:
        """A click on a conversation: continue it, exactly as History's "Open and continue"."""
        if session_id == self.window.session_id:
            return  # it is the one on screen
        self.window.resume_session(session_id)
        self.sidebar.select(session_id)

    def new(self) -> None:
        """"New conversation" at the top of the list: the window's own (as its top-bar button)."""
        self.window.new_session()
        self.sidebar.select(None)

    def _tab_changed(self, index: int) -> None:
        if self.window.tabs.widget(index) is self.window.talk_page:
            self.refresh()


def install(window: Any, bridge: Any) -> SidebarController:
    """Connect ``window.sidebar`` to storage, the window and ``ui.conversation_sidebar``."""
    controller = SidebarController(window, bridge)
    window.sidebar_controller = controller
    return controller


__all__ = ["AUTO_OPEN_WIDTH", "SidebarController", "install"]
