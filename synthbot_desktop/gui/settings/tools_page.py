"""Settings → Tools: which tools the assistant may use, and the MCP servers with their status and tools.

The switches are registry keys (``tools.*``, locked ones shown disabled by the binder). MCP servers
come from ``mcp_servers.json`` (added with ``synthbot-desktop mcp add``); "Check servers" starts
them once on the engine loop (``gui.bridge.run_coro``: never on the GUI thread), shows each one's
status — ready with its tools, or failed with the reason and its stderr tail — and stops them
again. Each MCP tool gets a checkbox; unticked tools go into ``tools.disabled`` on save.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QLabel, QPushButton, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from synthbot_desktop.app import AppContext
from synthbot_desktop.config import BUILTIN_TOOLS
from synthbot_desktop.gui.bridge import run_coro
from synthbot_desktop.gui.settings.base import LOCK_NOTE, SettingsPage
from synthbot_desktop.setting_keys import TOOLS_DISABLED, TOOLS_MCP_START_TIMEOUT_S, TOOLS_MCP_TIMEOUT_S

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
        self.check_button = QPushButton("Check servers")
        self.check_button.setObjectName("mcp_check")
        self.check_button.clicked.connect(self.check_servers)
        col.addWidget(self.check_button)
        self.status = QLabel("Add servers with: synthbot-desktop mcp add NAME -- COMMAND [ARGS...]")
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
        for name, config in self._configs().items():
            info = (report or {}).get(name)
            status = "not checked" if info is None else ("ready" if info["status"] == "ready"
                                                         else f"failed: {info['error']}")
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

    def check_servers(self) -> None:
        from synthbot_desktop.tools.mcp_client import McpManager, tool_name

        configs = self._configs()
        if not configs:
            self.status.setText("No MCP servers are configured.")
            return
        s = self.ctx.settings
        manager = McpManager(configs, start_timeout_s=s.value(TOOLS_MCP_START_TIMEOUT_S),
                             call_timeout_s=s.value(TOOLS_MCP_TIMEOUT_S))

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
