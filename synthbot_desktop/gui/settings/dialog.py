"""The settings dialog: a page list on the left, the page on the right, Restore/Cancel/Apply/OK.

Apply/OK first asks every page to ``check``; nothing is saved while any page has a problem,
and the problems are listed at the bottom, so a bad value never half-applies.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QListWidget,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import SynthbotError, describe
from synthbot_desktop.gui.settings import admin_page
from synthbot_desktop.gui.settings.audio_page import AudioPage
from synthbot_desktop.gui.settings.base import SettingsPage, StatusLine
from synthbot_desktop.gui.settings.database_page import DatabasePage
from synthbot_desktop.gui.settings.personas_page import PersonasPage
from synthbot_desktop.gui.settings.providers_page import ProvidersPage
from synthbot_desktop.gui.settings.simple_pages import GeneralPage, SpeechRecognitionPage
from synthbot_desktop.gui.settings.tools_page import ToolsPage
from synthbot_desktop.gui.settings.voice_page import VoicePage

#: A focus ring anyone can see (issue #21, defect 13): the platform style's outline was faint (Fusion
#: under Xvfb). Every button has the same 2 px border, only its colour changes with the focus, so a
#: focused (or checked) button never changes size and nothing around it moves (defect 14).
#: Fields keep the platform's own focus frame, which is clear enough.
FOCUS_STYLE = """
QPushButton { border: 2px solid palette(mid); border-radius: 4px; padding: 3px 12px; background: palette(button);
              min-height: 18px; }
QPushButton:hover { background: palette(light); }
QPushButton:pressed, QPushButton:checked { background: palette(midlight); }
QPushButton:focus { border-color: palette(highlight); }
QPushButton:disabled { color: palette(mid); }
"""

PAGE_TYPES: tuple[type[SettingsPage], ...] = (
    ProvidersPage, VoicePage, AudioPage, SpeechRecognitionPage, PersonasPage, DatabasePage, GeneralPage, ToolsPage,
)


class SettingsDialog(QDialog):
    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("SynthBot settings")
        self.setObjectName("settings_dialog")
        self.resize(900, 660)
        self.setStyleSheet(FOCUS_STYLE)
        outer = QVBoxLayout(self)
        body = QHBoxLayout()
        self.nav = QListWidget()
        self.nav.setObjectName("settings_nav")
        self.nav.setMaximumWidth(190)
        self.nav.setAccessibleName("Settings pages")
        self.stack = QStackedWidget()
        self.pages: dict[str, SettingsPage] = {}
        for page_type in PAGE_TYPES:
            page = page_type(ctx)
            self.pages[page.name] = page
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(page)
            self.stack.addWidget(scroll)
            self.nav.addItem(page.title)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.problems = StatusLine("settings_problems")
        self.problems.setAccessibleName("Settings status")
        outer.addWidget(self.problems)
        for page in self.pages.values():
            page.edited.connect(self.problems.clear_transient)  # "Saved." must not describe new edits
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.RestoreDefaults | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Ok)
        outer.addWidget(self.buttons)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.buttons.rejected.connect(self.reject)
        self.buttons.accepted.connect(self.accept_if_valid)
        apply = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        apply.clicked.connect(self.apply)
        restore = self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        restore.setToolTip("Put this page's defaults back (saved when you Apply)")
        restore.setAutoDefault(False)
        restore.setDefault(False)
        restore.clicked.connect(lambda: self.current_page().restore_defaults())
        for page in self.pages.values():
            page.load()
        self.nav.setCurrentRow(0)
        self.admin_probe = admin_page.install(self)  # adds the Admin page for admins only (issue #18)

    def current_page(self) -> SettingsPage:
        return list(self.pages.values())[self.stack.currentIndex()]

    def show_page(self, name: str) -> None:
        names = list(self.pages)
        if name in names:
            self.nav.setCurrentRow(names.index(name))

    def check(self) -> list[str]:
        problems = []
        for page in self.pages.values():
            problems += [f"{page.title}: {p}" for p in page.check()]
        return problems

    def apply(self) -> bool:
        problems = self.check()
        if problems:
            self.problems.show_message("Not saved — " + "; ".join(problems))
            return False
        try:
            for page in self.pages.values():
                page.save()
        except SynthbotError as exc:
            self.problems.show_message("Not saved — " + describe(exc))
            return False
        self.problems.show_message("Saved.", transient=True)
        return True

    def accept_if_valid(self) -> None:
        if self.apply():
            self.accept()
