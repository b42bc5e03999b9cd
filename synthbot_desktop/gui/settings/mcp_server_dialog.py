"""The "Add MCP server" form of Settings → Tools: the fields of `mcp add`, nothing more.

The form only collects text; ``services.mcp_servers.add_server`` (the function the CLI uses)
validates and stores it, in a pool job since the keyring may wait on D-Bus. A refusal (command
not found, a bad name or URL, no keyring for a secret) is one line under the form and the form
stays open with what was typed. Environment values are typed into password fields: they are
secrets until proven otherwise and must not show up in a screenshot.
"""

from __future__ import annotations

import shlex
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.errors import SynthbotError, UsageError, describe
from synthbot_desktop.gui.bridge import run_job


class EnvEditor(QWidget):
    """Rows of NAME = value (value masked); "Add variable" adds a row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        self.grid = QGridLayout()
        col.addLayout(self.grid)
        self.add_button = QPushButton("Add variable")
        self.add_button.setObjectName("mcp_env_add")
        self.add_button.clicked.connect(lambda: self.add_row())
        col.addWidget(self.add_button)
        self.rows: list[tuple[QLineEdit, QLineEdit]] = []

    def add_row(self, key: str = "", value: str = "") -> tuple[QLineEdit, QLineEdit]:
        name, secret = QLineEdit(key), QLineEdit(value)
        name.setPlaceholderText("NAME")
        name.setObjectName(f"mcp_env_key_{len(self.rows)}")
        secret.setPlaceholderText("value (kept in the OS keyring)")
        secret.setEchoMode(QLineEdit.EchoMode.Password)
        secret.setObjectName(f"mcp_env_value_{len(self.rows)}")
        row = len(self.rows)
        self.grid.addWidget(name, row, 0)
        self.grid.addWidget(secret, row, 1)
        self.rows.append((name, secret))
        return name, secret

    def values(self) -> dict[str, str]:
        """The typed variables; a value without a name is refused rather than dropped."""
        env: dict[str, str] = {}
        for name, secret in self.rows:
            key = name.text().strip()
            if not key and secret.text():
                raise UsageError("an environment value has no name")
            if key:
                env[key] = secret.text()
        return env


class McpServerDialog(QDialog):
    """Emits ``added(ServerConfig)`` once the server is stored, then closes."""

    added = Signal(object)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("mcp_add_dialog")
        self.setWindowTitle("Add MCP server")
        col = QVBoxLayout(self)
        form = QFormLayout()
        col.addLayout(form)
        self.name = QLineEdit()
        self.name.setObjectName("mcp_name")
        self.name.setPlaceholderText("files (its tools are offered as files__tool)")
        form.addRow("Name", self.name)
        self.transport = QComboBox()
        self.transport.setObjectName("mcp_transport")
        self.transport.addItem("Program (stdio)", "stdio")
        self.transport.addItem("URL (streamable HTTP)", "http")
        form.addRow("Kind", self.transport)
        self.command = QLineEdit()
        self.command.setObjectName("mcp_command")
        self.command.setPlaceholderText("npx")
        form.addRow("Command", self.command)
        self.args = QLineEdit()
        self.args.setObjectName("mcp_args")
        self.args.setPlaceholderText("-y @modelcontextprotocol/server-filesystem ~  (quoted like a shell)")
        form.addRow("Arguments", self.args)
        self.url = QLineEdit()
        self.url.setObjectName("mcp_url")
        self.url.setPlaceholderText("http://127.0.0.1:8000/mcp")
        form.addRow("URL", self.url)
        self.env = EnvEditor()
        form.addRow("Environment", self.env)
        self.error = QLabel("")
        self.error.setObjectName("mcp_add_error")
        self.error.setWordWrap(True)
        self.error.hide()
        col.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.addButton("Add server", QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("mcp_add_save")
        self.buttons.rejected.connect(self.reject)
        self.save_button.clicked.connect(self.submit)
        col.addWidget(self.buttons)
        self.form = form
        self.transport.currentIndexChanged.connect(self._show_fields)
        self._show_fields()

    def _show_fields(self) -> None:
        stdio = self.transport.currentData() == "stdio"
        for widget, visible in ((self.command, stdio), (self.args, stdio), (self.env, stdio), (self.url, not stdio)):
            widget.setVisible(visible)
            label = self.form.labelForField(widget)
            if label is not None:
                label.setVisible(visible)

    def fields(self) -> dict[str, Any]:
        """What was typed, as ``add_server``'s arguments (UsageError for unsplittable arguments)."""
        if self.transport.currentData() == "http":
            return {"name": self.name.text(), "command": [], "url": self.url.text(), "env": {}}
        try:
            args = shlex.split(self.args.text())
        except ValueError as exc:
            raise UsageError(f"the arguments cannot be split: {exc}", hint="check the quotes") from None
        command = [self.command.text().strip(), *args] if self.command.text().strip() else []
        return {"name": self.name.text(), "command": command, "url": None, "env": self.env.values()}

    def submit(self) -> None:
        from synthbot_desktop.services.mcp_servers import add_server

        try:
            fields = self.fields()
        except SynthbotError as exc:
            self.show_error(exc)
            return
        ctx, name = self.ctx, fields.pop("name")
        self.save_button.setEnabled(False)
        self.error.hide()

        def done(config: Any) -> None:
            self.save_button.setEnabled(True)
            self.added.emit(config)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.show_error(exc)

        run_job(lambda: add_server(ctx, name, **fields), done, failed)

    def show_error(self, exc: BaseException) -> None:
        self.error.setText(describe(exc))
        self.error.show()
