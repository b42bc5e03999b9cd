"""Desktop entry point: build the core context, the engine thread, the bridge and the window.

``run()`` is called by ``gui_launcher`` after its display check. ``build()`` does the same
without entering the event loop, so tests, the screenshot script and the UI benchmark start
exactly the app a user gets.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from synthbot_desktop import APP_NAME, __version__
from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import SynthbotError, describe
from synthbot_desktop.gui import conversation_actions, conversation_sidebar, tool_status
from synthbot_desktop.gui.bridge import EngineThread, EventBridge
from synthbot_desktop.gui.global_shortcut import GlobalShortcut
from synthbot_desktop.gui.history_page import HistoryPage
from synthbot_desktop.gui.main_window import MainWindow
from synthbot_desktop.gui.pipeline_service import PipelineTalkService
from synthbot_desktop.gui.settings.dialog import SettingsDialog
from synthbot_desktop.gui.talk_service import TalkService
from synthbot_desktop.gui.theme import SCHEME_PROPERTY, ThemeController, apply_scheme
from synthbot_desktop.gui.usage_page import UsagePage
from synthbot_desktop.services.startup import Startup
from synthbot_desktop.setting_keys import UI_GLOBAL_SHORTCUT

log = logging.getLogger(__name__)


@dataclass
class GuiApp:
    ctx: AppContext
    engine: EngineThread
    bridge: EventBridge
    talk: TalkService
    window: MainWindow
    history: HistoryPage
    usage: UsagePage
    shortcut: GlobalShortcut
    startup: Startup
    theme: ThemeController | None = None

    def register_global_shortcut(self) -> bool:
        """Grab ``ui.global_shortcut`` system-wide where the platform allows (status in ``shortcut.status``)."""
        ok = self.shortcut.register(self.ctx.settings.value(UI_GLOBAL_SHORTCUT))
        if not ok:
            log.info("global shortcut: %s", self.shortcut.status)
        return ok

    def open_settings(self, page: str = "") -> SettingsDialog:
        dialog = SettingsDialog(self.ctx, self.window)
        # Closed is gone: a hidden dialog kept as the window's child cost ~14 MB per opening (every page
        # and its widgets), the steady memory growth the GUI soak measured.
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if page:
            dialog.show_page(page)
        dialog.setModal(False)
        # Personas are edited there (stored in the database, not in settings): the picker re-reads them.
        dialog.finished.connect(lambda _result: self.window.refresh_personas())
        dialog.show()
        return dialog

    def close(self) -> None:
        from PySide6.QtCore import QThreadPool

        self.history.commit_delete()  # a delete waiting for "undo" happens now
        self.shortcut.unregister()
        if self.theme is not None:
            self.theme.close()
        self.talk.shutdown()
        QThreadPool.globalInstance().waitForDone(10000)  # pool jobs still use the database
        self.engine.stop()
        self.startup.finish()  # queued error rows and a running backup, before the database closes
        self.ctx.close()


def ensure_qapp(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(argv or [APP_NAME])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("SynthBot")
    app.setApplicationVersion(__version__)
    if not app.property(SCHEME_PROPERTY):
        apply_scheme(app, "light")  # until a ThemeController reads ui.theme and the desktop's choice
    return app


def build(ctx: AppContext | None = None, talk: TalkService | None = None, **service_kw: Any) -> GuiApp:
    """Everything but the event loop. ``talk`` replaces the pipeline service (tests)."""
    app = ensure_qapp()
    ctx = ctx or AppContext()
    theme = ThemeController(app, ctx.settings)  # light/dark: ui.theme, else the desktop's (live)
    # Banners are filed in error_logs (issue #18); storage opens in the background, and a job that
    # needs it before it is open just waits for AppContext's lock (services/startup.py).
    startup = Startup(ctx).begin(open_storage=True)
    engine = EngineThread().start()
    bridge = EventBridge()
    service = talk or PipelineTalkService(ctx, engine, bridge.sink, **service_kw)
    window = MainWindow(ctx, service, bridge)
    tool_status.install(window, bridge)  # "running <tool>" and timer alerts (#16)
    conversation_actions.install(window, bridge)  # tool rows, latency, copy/regenerate/edit/rate (#16, #17, #21)
    conversation_sidebar.install(window, bridge)  # recent conversations on the Talk tab (#21)
    history = HistoryPage(ctx)
    usage = UsagePage(ctx)
    window.add_page(history, "History")
    window.add_page(usage, "Usage")
    shortcut = GlobalShortcut(window)
    shortcut.activated.connect(window.toggle_talk)
    gui = GuiApp(ctx, engine, bridge, service, window, history, usage, shortcut, startup, theme)
    window.settingsRequested.connect(gui.open_settings)
    history.resumeRequested.connect(window.resume_session)

    def tab_changed(index: int) -> None:
        page = window.tabs.widget(index)
        if page is history:
            history.refresh()
        elif page is usage:
            usage.refresh()

    window.tabs.currentChanged.connect(tab_changed)
    return gui


def run() -> int:
    app = ensure_qapp(sys.argv)
    try:
        ctx = AppContext()
    except SynthbotError as exc:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "SynthBot cannot start", describe(exc))
        return 2
    gui = build(ctx)
    from synthbot_desktop.gui.crash import install_exception_hook

    restore_hook = install_exception_hook(gui.window)  # a bug in a slot: a banner, not a silent traceback
    gui.startup.start_backup()  # scheduled backup, on its own thread (issue #18)
    gui.window.show()
    gui.register_global_shortcut()
    warm = getattr(gui.talk, "warm_up", None)
    if callable(warm):
        warm()
    from synthbot_desktop.gui.welcome import WelcomeDialog, is_first_run

    if is_first_run(ctx):
        welcome = WelcomeDialog(ctx, gui.window)
        welcome.finished.connect(lambda _r: welcome.open_keys and gui.open_settings("providers"))
        welcome.show()
    try:
        return int(app.exec())
    finally:
        restore_hook()
        gui.close()
