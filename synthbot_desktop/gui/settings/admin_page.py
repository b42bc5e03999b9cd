"""Admin: usage across all users and the feature flags (issue #18), for accounts that may read all users.

The page is added to the settings dialog only after a pool job has asked the database whether this
account may read everyone's rows (``services.admin.can_read_all_users``): the desktop clients'
limited MySQL account never sees it, a local SQLite file's owner does. Everything here reads and
writes through ``services.admin`` (the same calls as `synthbot-desktop admin usage|flags`) on the
thread pool; a flag change is immediate (it is an admin action, not a setting waiting for Apply)
and audited.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import describe
from synthbot_desktop.gui.bridge import Relay, run_job
from synthbot_desktop.gui.settings.base import SettingsPage
from synthbot_desktop.services import admin as admin_service

if TYPE_CHECKING:
    from synthbot_desktop.gui.settings.dialog import SettingsDialog

log = logging.getLogger(__name__)

GROUPINGS = ("user,provider", "user,provider,model", "provider,model", "user,month", "user")
USAGE_TAIL = ["calls", "failures", "tokens_in", "tokens_out", "characters", "cost_usd"]
FLAG_COLUMNS = ["Flag", "Everyone", "Here", "User overrides", "What"]


def _state(value: bool | None) -> str:
    return "-" if value is None else ("on" if value else "off")


class AdminPage(SettingsPage):
    name = "admin"
    title = "Admin"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.form("Usage across all users")
        top = QHBoxLayout()
        self.group_by = QComboBox()
        self.group_by.setObjectName("admin_group_by")
        self.group_by.addItems(list(GROUPINGS))
        top.addWidget(QLabel("Group by"))
        top.addWidget(self.group_by)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("admin_refresh")
        top.addWidget(self.refresh_button)
        top.addStretch(1)
        self.column.addLayout(top)
        self.usage_table = QTableWidget(0, 0)
        self.usage_table.setObjectName("admin_usage_table")
        self.usage_table.setMinimumHeight(180)
        self.usage_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.column.addWidget(self.usage_table)

        self.form("Feature flags (apply at once, for every desktop on this database)")
        self.flags_table = QTableWidget(0, len(FLAG_COLUMNS))
        self.flags_table.setObjectName("admin_flags_table")
        self.flags_table.setHorizontalHeaderLabels(FLAG_COLUMNS)
        self.flags_table.setMinimumHeight(260)
        self.flags_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.flags_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.flags_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.flags_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.column.addWidget(self.flags_table)
        buttons = QHBoxLayout()
        self.off_button = QPushButton("Turn off for everyone")
        self.off_button.setObjectName("admin_flag_off")
        self.on_button = QPushButton("Turn on for everyone")
        self.on_button.setObjectName("admin_flag_on")
        self.clear_button = QPushButton("Clear decision")
        self.clear_button.setObjectName("admin_flag_clear")
        self.clear_button.setToolTip("Forget the database's decision and its user overrides")
        for b in (self.off_button, self.on_button, self.clear_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.column.addLayout(buttons)
        note = QLabel("Per-user overrides: `synthbot-desktop admin flags set NAME on|off --user NAME`. "
                      "A lock in this machine's policy file wins over the database ('Here' says so).")
        note.setWordWrap(True)
        self.column.addWidget(note)
        self.status = QLabel("")
        self.status.setObjectName("admin_status")
        self.status.setWordWrap(True)
        self.column.addWidget(self.status)
        self.finish()
        self.flag_names: list[str] = []
        self.loaded = 0  # completed loads, for tests and for the status line
        self.refresh_button.clicked.connect(self.refresh)
        self.group_by.currentIndexChanged.connect(lambda _i: self.refresh())
        self.off_button.clicked.connect(lambda: self._change(False))
        self.on_button.clicked.connect(lambda: self._change(True))
        self.clear_button.clicked.connect(lambda: self._change(None))

    # The four verbs: nothing here is a setting waiting for Apply.
    def load(self) -> None:
        self.refresh()

    def check(self) -> list[str]:
        return []

    def save(self) -> None:
        return None

    def restore_defaults(self) -> None:
        return None

    def refresh(self) -> Relay:
        by = self.group_by.currentText().split(",")
        ctx = self.ctx

        def work() -> tuple[list[dict[str, Any]], list[admin_service.FlagView]]:
            rows = [r.as_dict(by) for r in admin_service.usage(ctx, by)]
            return rows, admin_service.flags(ctx)

        self.status.setText("Loading…")
        return run_job(work, lambda result: self._show(by, *result), self._failed)

    def _show(self, by: list[str], rows: list[dict[str, Any]], flags: list[admin_service.FlagView]) -> None:
        columns = [*by, *USAGE_TAIL]
        table = self.usage_table
        table.setColumnCount(len(columns))
        table.setHorizontalHeaderLabels(columns)
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, col in enumerate(columns):
                value = row.get(col)
                table.setItem(r, c, QTableWidgetItem("-" if value is None else str(value)))
        selected = self.selected_flag()
        self.flag_names = [f.name for f in flags]
        self.flags_table.setRowCount(len(flags))
        for r, f in enumerate(flags):
            users = ", ".join(f"{u}={_state(v)}" for u, v in f.users.items()) or "-"
            here = _state(f.here) + (" 🔒 policy" if f.locked_here else "")
            for c, text in enumerate((f.name, _state(f.everyone), here, users, f.description)):
                self.flags_table.setItem(r, c, QTableWidgetItem(text))
        if selected in self.flag_names:
            self.flags_table.selectRow(self.flag_names.index(selected))
        self.loaded += 1
        self.status.setText(f"{len(rows)} usage group(s), {len(flags)} flag(s)")

    def _failed(self, error: BaseException) -> None:
        self.status.setText(f"Could not load: {describe(error)}")

    def selected_flag(self) -> str | None:
        rows = self.flags_table.selectionModel().selectedRows() if self.flags_table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.flag_names):
            return None
        return self.flag_names[rows[0].row()]

    def _change(self, on: bool | None) -> Relay | None:
        name = self.selected_flag()
        if name is None:
            self.status.setText("Choose a flag first.")
            return None
        ctx = self.ctx

        def work() -> None:
            if on is None:
                admin_service.clear_flag(ctx, name)
            else:
                admin_service.set_flag(ctx, name, on)

        def done(_result: None) -> None:
            self.refresh()

        return run_job(work, done, self._failed)


def install(dialog: SettingsDialog) -> Relay:
    """Add the page to ``dialog`` once the database says this account may read all users."""
    ctx = dialog.ctx

    def add(allowed: bool) -> None:
        if not allowed or "admin" in dialog.pages:
            return
        page = AdminPage(ctx)
        dialog.pages[page.name] = page
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(page)
        dialog.stack.addWidget(scroll)
        dialog.nav.addItem(page.title)
        page.load()

    def unavailable(error: BaseException) -> None:  # no admin page then; the other pages still work
        log.info("admin page not shown: %s", describe(error))

    return run_job(lambda: admin_service.can_read_all_users(ctx), add, unavailable)
