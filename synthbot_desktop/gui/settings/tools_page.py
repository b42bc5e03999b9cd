"""Settings → Tools: which tools the assistant may use, and the MCP servers with their status and tools.

The switches are registry keys (``tools.*``, locked ones shown disabled by the binder). MCP servers
come from ``mcp_servers.json``; "Add server…", "Remove" and "Disable"/"Enable" change that list at
once through ``services.mcp_servers`` (the functions `mcp add|remove|enable|disable` use: same
validation, env values into the keyring), each in a pool job. "Check servers" starts the enabled
ones once on the engine loop (``gui.bridge.run_coro``: never on the GUI thread), shows each one's
status — ready with its tools, or failed with the reason and its stderr tail — and stops them
again. Each MCP tool gets a checkbox; unticked tools go into ``tools.disabled`` on save.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import BUILTIN_TOOLS
from synthbot_desktop.gui.bridge import run_coro, run_job
from synthbot_desktop.gui.settings.base import LOCK_NOTE, SettingsPage
from synthbot_desktop.setting_keys import TOOLS_DISABLED

LABELS = {"get_current_time": "Date and time", "set_timer": "Timers and reminders", "open": "Open URLs and files",
          "clipboard_read": "Read the clipboard", "clipboard_write": "Write the clipboard",
          "search_history": "Search your history", "remember": "Remember facts", "list_memory": "List memory",
          "forget": "Forget facts"}


class ToolsPage(SettingsPage):
    name = "tools"
    title = "Tools"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        general = self.form()
        self.binder.row(general, "tools.enabled", "Let the assistant use tools")
        self.binder.row(general, "tools.auto_confirm", "Run side-effect tools without asking")
        self.binder.row(general, "tools.max_rounds", "Tool rounds per reply")
        self.binder.row(general, "tools.filler_after_s", "Say \u201cOne moment\u201d after (s)")
        builtins = self.form("Built-in tools")
        for name in BUILTIN_TOOLS:
            self.binder.row(builtins, f"tools.{name}.enabled", LABELS.get(name, name))
        mcp = self.form("MCP servers")
        self.binder.row(mcp, "tools.mcp.enabled", "Use MCP servers")
        self.binder.row(mcp, "tools.mcp.timeout_s", "Tool call timeout (s)")
        box = QWidget()
        col = QVBoxLayout(box)
        col.setContentsMargins(0, 0, 0, 0)
        self.servers = QTreeWidget()
        self.servers.setObjectName("mcp_servers")
        self.servers.setHeaderLabels(["Server / tool", "Status", "Command or URL"])
        self.servers.setMinimumHeight(160)
        col.addWidget(self.servers)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add server…")
        self.add_button.setObjectName("mcp_add")
        self.add_button.clicked.connect(self.open_add_dialog)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setObjectName("mcp_remove")
        self.remove_button.clicked.connect(self.ask_remove)
        self.enable_button = QPushButton("Disable")
        self.enable_button.setObjectName("mcp_enable")
        self.enable_button.clicked.connect(self.toggle_enabled)
        self.check_button = QPushButton("Check servers")
        self.check_button.setObjectName("mcp_check")
        self.check_button.clicked.connect(self.check_servers)
        for b in (self.add_button, self.remove_button, self.enable_button, self.check_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        col.addLayout(buttons)
        self.servers.currentItemChanged.connect(lambda *_a: self._sync_buttons())
        self.add_dialog: Any = None
        self._report: dict[str, Any] | None = None
        self.status = QLabel("Servers are saved as soon as they are added, removed or switched.")
        self.status.setObjectName("mcp_status")
        self.status.setWordWrap(True)
        col.addWidget(self.status)
        mcp.addRow(box)
        self.tool_boxes: dict[str, QCheckBox] = {}  # MCP tool name (server__tool) -> its switch
        self.disabled_locked = ctx.settings.is_locked("tools.disabled")
        self.finish()

    # Servers --------------------------------------------------------------------------------
    def load(self) -> None:
        super().load()
        self._fill(None)

    def selected_server(self) -> str | None:
        item = self.servers.currentItem()
        while item is not None and item.parent() is not None:
            item = item.parent()
        return item.text(0) if item is not None else None

    def _sync_buttons(self) -> None:
        name = self.selected_server()
        config = self._configs().get(name) if name else None
        self.remove_button.setEnabled(config is not None)
        self.enable_button.setEnabled(config is not None)
        self.enable_button.setText("Enable" if config is not None and not config.enabled else "Disable")

    def open_add_dialog(self) -> None:
        from synthbot_desktop.gui.settings.mcp_server_dialog import McpServerDialog

        dialog = McpServerDialog(self.ctx, self)
        dialog.added.connect(lambda c: self._changed(f"Added {c.name}; it starts when a conversation needs it."))
        self.add_dialog = dialog
        dialog.open()

    def ask_remove(self) -> None:
        """Asked first (its keyring entries go too); non-modal, so the window keeps painting."""
        name = self.selected_server()
        if name is None:
            return
        box = QMessageBox(QMessageBox.Icon.Question, "Remove MCP server?",
                          f"Remove the MCP server {name}? Its environment values are deleted from the keyring.",
                          parent=self)
        box.setObjectName("mcp_remove_confirm")
        remove = box.addButton("Remove", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.finished.connect(lambda _r: self.remove_server(name) if box.clickedButton() is remove else None)
        box.open()

    def remove_server(self, name: str) -> None:
        from synthbot_desktop.services.mcp_servers import remove_server

        ctx = self.ctx
        run_job(lambda: remove_server(ctx, name), lambda _c: self._changed(f"Removed {name}."), self._refused)

    def toggle_enabled(self) -> None:
        from synthbot_desktop.services.mcp_servers import set_enabled

        name = self.selected_server()
        config = self._configs().get(name) if name else None
        if name is None or config is None:
            return
        ctx, on = self.ctx, not config.enabled
        run_job(lambda: set_enabled(ctx, name, on),
                lambda c: self._changed(f"{c.name} {'enabled' if c.enabled else 'disabled'}."), self._refused)

    def _changed(self, message: str) -> None:
        self._fill(self._report)
        self.status.setText(message)

    def _refused(self, exc: BaseException) -> None:
        from synthbot_desktop.errors import describe

        self.status.setText(describe(exc))

    def _configs(self) -> dict[str, Any]:
        from synthbot_desktop.errors import ConfigError, describe
        from synthbot_desktop.tools.mcp_client import load_servers

        try:
            return load_servers(self.ctx.paths.config_dir)
        except ConfigError as exc:
            self.status.setText(describe(exc))
            return {}

    def _fill(self, report: dict[str, Any] | None) -> None:
        from synthbot_desktop.services.tools import disabled_tools

        self.servers.clear()
        self.tool_boxes.clear()
        off = disabled_tools(self.ctx.settings)
        self._report = report
        for name, config in self._configs().items():
            info = (report or {}).get(name) if config.enabled else None
            status = ("disabled" if not config.enabled else "not checked" if info is None
                      else "ready" if info["status"] == "ready" else f"failed: {info['error']}")
            item = QTreeWidgetItem([name, status, config.describe()])
            item.setToolTip(1, status)
            self.servers.addTopLevelItem(item)
            for tool in (info or {}).get("tools", []):
                child = QTreeWidgetItem(["", tool["description"][:120], ""])
                item.addChild(child)
                check = QCheckBox(tool["name"])
                check.setObjectName(f"mcp_tool_{tool['name']}")
                check.setChecked(tool["name"] not in off)
                check.setEnabled(not self.disabled_locked)
                if self.disabled_locked:
                    check.setToolTip(LOCK_NOTE)
                self.servers.setItemWidget(child, 0, check)
                self.tool_boxes[tool["name"]] = check
            item.setExpanded(True)
        self._sync_buttons()

    def check_servers(self) -> None:
        from synthbot_desktop.tools.mcp_client import manager_for, tool_name

        configs = {n: c for n, c in self._configs().items() if c.enabled}
        if not configs:
            self.status.setText("No enabled MCP servers are configured.")
            return
        manager = manager_for(self.ctx, configs)

        async def check() -> dict[str, Any]:
            try:
                await manager.start_all()
                return {n: {"status": srv.status, "error": srv.error,
                            "tools": [{"name": tool_name(n, t.name), "description": (t.description or "").strip()}
                                      for t in srv.tools]}
                        for n, srv in manager.servers.items()}
            finally:
                await manager.aclose()

        self.check_button.setEnabled(False)
        self.status.setText("Starting the servers…")

        def done(report: dict[str, Any]) -> None:
            self.check_button.setEnabled(True)
            self._fill(report)
            ready = sum(1 for r in report.values() if r["status"] == "ready")
            self.status.setText(f"{ready} of {len(report)} servers ready.")

        def failed(exc: BaseException) -> None:
            self.check_button.setEnabled(True)
            self.status.setText(f"Checking failed: {exc}")

        run_coro(check(), done, failed)

    # Saving ------------------------------------------------------------------------------------
    def save(self) -> None:
        super().save()
        if self.disabled_locked or not self.tool_boxes:
            return
        current = [n.strip() for n in self.ctx.settings.value(TOOLS_DISABLED).split(",") if n.strip()]
        keep = [n for n in current if n not in self.tool_boxes]  # names this page does not show
        off = keep + [n for n, box in self.tool_boxes.items() if not box.isChecked()]
        value = ",".join(off)
        if value != self.ctx.settings.value(TOOLS_DISABLED):
            self.ctx.settings.update({"tools.disabled": value})
