"""Admin: usage across all users and the feature flags (issue #18), for accounts that may read all users.

The page is added to the settings dialog only after a pool job has asked the database whether this
account may read everyone's rows (``services.admin.can_read_all_users``): the desktop clients'
limited MySQL account never sees it, a local SQLite file's owner does. Everything here reads and
writes through ``services.admin`` (the same calls as `synthbot-desktop admin usage|flags`) on the
thread pool; a flag change is immediate (it is an admin action, not a setting waiting for Apply)
and audited. Per-user overrides (`admin flags set NAME on|off --user U`) are listed for the
selected flag and edited for a chosen user the same way.

The newest errors users were shown (``error_logs``, redacted, as `admin errors`) are listed too.

Everyone else gets :class:`FlagsPage`, the same flags read-only: what the admin decided for
everyone, their own override (never other users' names) and what applies on this desktop, so a
person can see why something is hidden; no button can change anything.
"""

from __future__ import annotations

import datetime as dt
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
    from synthbot_desktop.storage.error_log import ErrorEntry

log = logging.getLogger(__name__)

GROUPINGS = ("user,provider", "user,provider,model", "provider,model", "user,month", "user")
USAGE_TAIL = ["calls", "failures", "tokens_in", "tokens_out", "characters", "cost_usd"]
FLAG_COLUMNS = ["Flag", "Everyone", "Here", "User overrides", "What"]
OWN_FLAG_COLUMNS = ["Flag", "Everyone", "Here", "Your override", "What"]
OVERRIDE_COLUMNS = ["User", "Override"]
ERROR_COLUMNS = ["When (UTC)", "User", "Where", "Kind", "Message"]
ERROR_LIMIT = 50  # the page shows the newest; `admin errors --limit N` has the rest


def _state(value: bool | None) -> str:
    return "-" if value is None else ("on" if value else "off")


class AdminPage(SettingsPage):
    name = "admin"
    title = "Admin"

    read_only = False  # FlagsPage: a desktop user's read-only view

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.group_by = QComboBox()
        self.group_by.setObjectName("admin_group_by")
        self.group_by.addItems(list(GROUPINGS))
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("admin_refresh")
        self.usage_table = QTableWidget(0, 0)
        self.usage_table.setObjectName("admin_usage_table")
        self.usage_table.setMinimumHeight(180)
        self.usage_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        if not self.read_only:
            self.form("Usage across all users")
            top = QHBoxLayout()
            top.addWidget(QLabel("Group by"))
            top.addWidget(self.group_by)
            top.addWidget(self.refresh_button)
            top.addStretch(1)
            self.column.addLayout(top)
            self.column.addWidget(self.usage_table)

        self.form("Feature flags (apply at once, for every desktop on this database)" if not self.read_only
                  else "Feature flags (decided by your administrator; read-only)")
        columns = OWN_FLAG_COLUMNS if self.read_only else FLAG_COLUMNS
        self.flags_table = QTableWidget(0, len(columns))
        self.flags_table.setObjectName("admin_flags_table")
        self.flags_table.setHorizontalHeaderLabels(columns)
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

        # Per-user overrides of the selected flag: listed, and set/cleared for the chosen user.
        self.overrides_table = QTableWidget(0, len(OVERRIDE_COLUMNS))
        self.overrides_table.setObjectName("admin_overrides_table")
        self.overrides_table.setHorizontalHeaderLabels(OVERRIDE_COLUMNS)
        self.overrides_table.setMinimumHeight(120)
        self.overrides_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.overrides_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.overrides_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.overrides_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.override_user = QComboBox()
        self.override_user.setObjectName("admin_override_user")
        self.override_user.setEditable(True)  # an admin may decide for a seat before it first starts
        self.override_user.setToolTip("A user name (the OS login or SYNTHBOT_USER of that desktop)")
        self.user_off_button = QPushButton("Turn off for this user")
        self.user_off_button.setObjectName("admin_user_off")
        self.user_on_button = QPushButton("Turn on for this user")
        self.user_on_button.setObjectName("admin_user_on")
        self.user_clear_button = QPushButton("Clear this user's override")
        self.user_clear_button.setObjectName("admin_user_clear")
        if not self.read_only:
            self.column.addLayout(buttons)
            self.overrides_heading = QLabel("<b>Per-user overrides of the selected flag</b>")
            self.column.addWidget(self.overrides_heading)
            self.column.addWidget(self.overrides_table)
            user_row = QHBoxLayout()
            user_row.addWidget(QLabel("User"))
            user_row.addWidget(self.override_user, 1)
            for b in (self.user_off_button, self.user_on_button, self.user_clear_button):
                user_row.addWidget(b)
            self.column.addLayout(user_row)
        self.errors_table = QTableWidget(0, len(ERROR_COLUMNS))
        self.errors_table.setObjectName("admin_errors_table")
        self.errors_table.setHorizontalHeaderLabels(ERROR_COLUMNS)
        self.errors_table.setMinimumHeight(160)
        self.errors_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.errors_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.errors_table.horizontalHeader().setStretchLastSection(True)
        if not self.read_only:
            self.form(f"Errors users were shown (newest {ERROR_LIMIT}; redacted)")
            self.column.addWidget(self.errors_table)
        note = QLabel("A lock in this machine's policy file wins over the database ('Here' says so)."
                      if not self.read_only else
                      "Your administrator turns providers, tools and features on or off for everyone or for "
                      "you; 'Here' is what applies on this desktop (a policy lock on this machine wins).")
        note.setWordWrap(True)
        self.column.addWidget(note)
        self.status = QLabel("")
        self.status.setObjectName("admin_status")
        self.status.setWordWrap(True)
        self.column.addWidget(self.status)
        self.finish()
        self.flag_names: list[str] = []
        self.flag_views: list[admin_service.FlagView] = []
        self.loaded = 0  # completed loads, for tests and for the status line
        self.refresh_button.clicked.connect(self.refresh)
        self.group_by.currentIndexChanged.connect(lambda _i: self.refresh())
        self.flags_table.itemSelectionChanged.connect(self._show_overrides)
        self.overrides_table.itemSelectionChanged.connect(self._pick_override_user)
        if not self.read_only:
            self.off_button.clicked.connect(lambda: self._change(False))
            self.on_button.clicked.connect(lambda: self._change(True))
            self.clear_button.clicked.connect(lambda: self._change(None))
            self.user_off_button.clicked.connect(lambda: self._change(False, for_user=True))
            self.user_on_button.clicked.connect(lambda: self._change(True, for_user=True))
            self.user_clear_button.clicked.connect(lambda: self._change(None, for_user=True))

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
        read_only = self.read_only

        def work() -> tuple[list[dict[str, Any]], list[admin_service.FlagView], list[str], list[ErrorEntry]]:
            if read_only:  # never reads across users
                return [], admin_service.own_flags(ctx), [], []
            rows = [r.as_dict(by) for r in admin_service.usage(ctx, by)]
            return (rows, admin_service.flags(ctx), admin_service.user_names(ctx),
                    admin_service.errors(ctx, limit=ERROR_LIMIT))

        self.status.setText("Loading…")
        return run_job(work, lambda result: self._show(by, *result), self._failed)

    def _show(self, by: list[str], rows: list[dict[str, Any]], flags: list[admin_service.FlagView],
              users: list[str], errors: list[ErrorEntry]) -> None:
        self._show_errors(errors)
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
        self.flag_views = list(flags)
        self.flags_table.setRowCount(len(flags))
        for r, f in enumerate(flags):
            overrides = ", ".join(f"{u}={_state(v)}" for u, v in f.users.items()) or "-"
            if self.read_only:
                overrides = _state(next(iter(f.users.values()), None))
            here = _state(f.here) + (" 🔒 policy" if f.locked_here else "")
            for c, text in enumerate((f.name, _state(f.everyone), here, overrides, f.description)):
                self.flags_table.setItem(r, c, QTableWidgetItem(text))
        typed = self.override_user.currentText()
        self.override_user.clear()
        self.override_user.addItems(users)
        self.override_user.setEditText(typed)
        if selected in self.flag_names:
            self.flags_table.selectRow(self.flag_names.index(selected))
        self._show_overrides()
        self.loaded += 1
        self.status.setText(f"{len(flags)} flag(s)" if self.read_only
                            else f"{len(rows)} usage group(s), {len(flags)} flag(s), {len(errors)} error(s)")

    def _show_errors(self, errors: list[ErrorEntry]) -> None:
        self.errors_table.setRowCount(len(errors))
        for r, e in enumerate(errors):
            when = e.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
            for c, text in enumerate((when, e.username or "-", e.source, e.kind or "-", e.message)):
                self.errors_table.setItem(r, c, QTableWidgetItem(text))

    def _show_overrides(self) -> None:
        """The selected flag's per-user overrides, one row per user."""
        name = self.selected_flag()
        view = next((f for f in self.flag_views if f.name == name), None)
        users = sorted(view.users.items()) if view is not None else []
        self.overrides_table.setRowCount(len(users))
        for r, (user, on) in enumerate(users):
            self.overrides_table.setItem(r, 0, QTableWidgetItem(user))
            self.overrides_table.setItem(r, 1, QTableWidgetItem(_state(on)))
        if not self.read_only:
            self.overrides_heading.setText(f"<b>Per-user overrides of {name}</b>" if name
                                           else "<b>Per-user overrides of the selected flag</b>")

    def _pick_override_user(self) -> None:
        rows = self.overrides_table.selectionModel().selectedRows()
        if rows:
            item = self.overrides_table.item(rows[0].row(), 0)
            if item is not None:
                self.override_user.setEditText(item.text())

    def _failed(self, error: BaseException) -> None:
        self.status.setText(f"Could not load: {describe(error)}")

    def selected_flag(self) -> str | None:
        rows = self.flags_table.selectionModel().selectedRows() if self.flags_table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.flag_names):
            return None
        return self.flag_names[rows[0].row()]

    def _change(self, on: bool | None, *, for_user: bool = False) -> Relay | None:
        """Set or clear the selected flag for everyone, or (``for_user``) only for the chosen user."""
        if self.read_only:
            return None
        name = self.selected_flag()
        if name is None:
            self.status.setText("Choose a flag first.")
            return None
        users: tuple[str, ...] = ()
        if for_user:
            user = self.override_user.currentText().strip()
            if not user:
                self.status.setText("Choose or type a user first.")
                return None
            users = (user,)
        ctx = self.ctx

        def work() -> None:
            if on is None:
                admin_service.clear_flag(ctx, name, users)
            else:
                admin_service.set_flag(ctx, name, on, users)

        def done(_result: None) -> None:
            self.refresh()

        return run_job(work, done, self._failed)


class FlagsPage(AdminPage):
    """The feature flags for a desktop user who is not an admin: read-only, their own override only."""

    name = "flags"
    title = "Feature flags"
    read_only = True


def install(dialog: SettingsDialog) -> Relay:
    """Add the Admin page to ``dialog`` once the database says this account may read all users;
    any other account gets the read-only Feature flags page."""
    ctx = dialog.ctx

    def add(allowed: bool) -> None:
        if "admin" in dialog.pages or "flags" in dialog.pages:
            return
        page = AdminPage(ctx) if allowed else FlagsPage(ctx)
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
