"""Database: the SQLite file (default) or a MySQL/MariaDB URL, its password in the keyring.

"Test connection" and "Migrate" run in the thread pool: a dead server costs the user a
message after the connect timeout, never a frozen window. The password never goes into the
URL that is saved; it is stored in the keyring under ``db:user@host:port``.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import DatabaseError, describe
from synthbot_desktop.gui.bridge import run_job
from synthbot_desktop.gui.settings.base import Busy, SettingsPage
from synthbot_desktop.redaction import redact
from synthbot_desktop.storage.db import check_connection, make_engine, masked, parse_url


class DatabasePage(SettingsPage):
    name = "database"
    title = "Database"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.status = self.status_line("db_status")
        form = self.form()
        self.url = self.binder.row(form, "database.url", "URL")
        assert isinstance(self.url, QLineEdit)
        self.url.setPlaceholderText(f"empty: SQLite file {ctx.paths.default_database_file}")
        self.password = QLineEdit()
        self.password.setObjectName("db_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("MySQL password (stored in the keyring; leave empty to keep)")
        self.password.setAccessibleName("Database password")
        self.password.textEdited.connect(self.status.clear_transient)
        form.addRow("Password", self.password)
        self.binder.row(form, "database.connect_timeout", "Connect timeout (s)")
        self.binder.row(form, "database.auto_upgrade_remote", "Upgrade remote schema on start")
        buttons = QHBoxLayout()
        self.test_button = QPushButton("Test connection")
        self.test_button.setObjectName("db_test")
        self.migrate_button = QPushButton("Migrate to latest schema")
        self.migrate_button.setObjectName("db_migrate")
        Busy.reserve(self.test_button, "Connecting…")
        Busy.reserve(self.migrate_button, "Migrating…")
        buttons.addWidget(self.test_button)
        buttons.addWidget(self.migrate_button)
        buttons.addStretch(1)
        self.column.addLayout(buttons)
        self.column.addWidget(self.status)
        note = QLabel("A new database takes effect after restarting the app. Conversations are not copied "
                      "between databases: export them from History first if you need them.")
        note.setWordWrap(True)
        self.column.addWidget(note)
        self.finish()
        self.test_button.clicked.connect(self.test_connection)
        self.migrate_button.clicked.connect(self.migrate)

    def _url(self) -> str:
        return self.ctx.database_url(str(self.binder.value("database.url")) or None)

    def check(self) -> list[str]:
        problems = super().check()
        text = str(self.binder.value("database.url"))
        if text:
            try:
                parsed = parse_url(text)
                if parsed.password:
                    problems.append("put the database password in the Password field, not in the URL "
                                    "(the URL is saved in a plain settings file)")
            except DatabaseError as exc:
                problems.append(describe(exc))
        return problems

    def save(self) -> None:
        super().save()
        pw = self.password.text()
        if pw:
            parsed = parse_url(self._url())
            self.password.clear()
            if parsed.get_backend_name() != "sqlite" and parsed.username:
                user, host, port = parsed.username, parsed.host or "localhost", parsed.port
                run_job(lambda: self.ctx.keystore.set_db_password(user, host, port, pw),
                        lambda _: self.status.show_message("Stored the database password in the keyring.",
                                                           transient=True), self._fail)

    def _engine_args(self) -> tuple[str, str | None, int]:
        url = self._url()
        parsed = parse_url(url)
        pw = self.password.text() or None
        if pw is None and parsed.get_backend_name() != "sqlite" and parsed.username:
            pw = self.ctx.keystore.get_db_password(parsed.username, parsed.host or "localhost", parsed.port)
        return url, pw, int(self.binder.value("database.connect_timeout"))

    def test_connection(self) -> None:
        if Busy.is_busy(self.test_button):
            return
        # Busy, not disabled: a disabled button loses the focus, which went on to "Restore Defaults"
        # (Enter would then reset the page; issue #21, defect 13).
        Busy.start(self.test_button, "Connecting…")
        self.status.show_message("Connecting…")

        def probe() -> str:
            url, pw, timeout = self._engine_args()
            engine = make_engine(url, password=pw, connect_timeout=timeout)
            try:
                check_connection(engine)
                from synthbot_desktop.storage import migrate

                current, head = migrate.current_revision(engine), migrate.head_revision()
            finally:
                engine.dispose()
            state = "up to date" if current == head else f"at {current or 'no schema'}, latest is {head}: press Migrate"
            return f"Connected to {masked(url)} — schema {state}."

        def done(text: str) -> None:
            Busy.stop(self.test_button)
            self.status.show_message(text, transient=True)

        def failed(error: BaseException) -> None:
            Busy.stop(self.test_button)
            self._fail(error)

        run_job(probe, done, failed)

    def migrate(self) -> None:
        if Busy.is_busy(self.migrate_button):
            return
        # Busy, not disabled: a disabled button loses the focus, which went on to "Restore Defaults"
        # (Enter would then reset the page; issue #21, defect 13).
        Busy.start(self.migrate_button, "Migrating…")
        self.status.show_message("Migrating…")

        def upgrade() -> str:
            from synthbot_desktop.storage import migrate

            url, pw, timeout = self._engine_args()
            engine = make_engine(url, password=pw, connect_timeout=timeout)
            try:
                migrate.upgrade(engine)
                return f"Schema of {masked(url)} is at {migrate.current_revision(engine)}."
            finally:
                engine.dispose()

        def done(text: str) -> None:
            Busy.stop(self.migrate_button)
            self.status.show_message(text, transient=True)

        def failed(error: BaseException) -> None:
            Busy.stop(self.migrate_button)
            self._fail(error)

        run_job(upgrade, done, failed)

    def _fail(self, error: BaseException) -> None:
        text = describe(error)
        self.status.show_message(redact(text))
