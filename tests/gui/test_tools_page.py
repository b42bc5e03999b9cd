"""Settings → Tools: built-in switches (a policy lock shown disabled), MCP servers' status and tools
from a real check (a test MCP server and a crashing one), MCP tool switches saved to tools.disabled."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from synthbot_desktop.app import AppContext
from synthbot_desktop.gui.settings.dialog import SettingsDialog
from synthbot_desktop.tools.mcp_client import ServerConfig, save_servers

pytestmark = pytest.mark.gui
SERVER = str(Path(__file__).resolve().parents[1] / "support" / "mcp_server.py")


def test_tools_page(qtbot: Any, app_env: dict[str, str], memory_keyring: Any, tmp_path: Path,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[locked]\n"tools.open.enabled" = false\n')
    monkeypatch.setenv("SYNTHBOT_POLICY_FILE", str(policy))
    monkeypatch.setenv("SYNTHBOT_SET__tools__mcp__start_timeout_s", "90")
    ctx = AppContext()
    try:
        save_servers(ctx.paths.config_dir, {"calc": ServerConfig("calc", sys.executable, [SERVER]),
                                            "boom": ServerConfig("boom", sys.executable, [SERVER, "crash"])})
        dialog = SettingsDialog(ctx)
        qtbot.addWidget(dialog)
        page = dialog.pages["tools"]
        editors = page.binder.editors
        assert not editors["tools.open.enabled"].isEnabled()  # locked off by the policy
        assert not editors["tools.open.enabled"].isChecked()
        assert editors["tools.remember.enabled"].isChecked() and editors["tools.remember.enabled"].isEnabled()
        assert page.servers.topLevelItemCount() == 2
        assert page.servers.topLevelItem(0).text(1) == "not checked"

        qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.status.text() == "1 of 2 servers ready.", timeout=120_000)
        rows = {page.servers.topLevelItem(i).text(0): page.servers.topLevelItem(i)
                for i in range(page.servers.topLevelItemCount())}
        assert rows["calc"].text(1) == "ready" and rows["calc"].childCount() == 5
        assert rows["boom"].text(1).startswith("failed") and "missing_dependency" in rows["boom"].text(1)
        assert set(page.tool_boxes) == {"calc__add", "calc__slow", "calc__fail", "calc__die",
                                    "calc__env_digest"}

        page.tool_boxes["calc__die"].setChecked(False)
        editors["tools.remember.enabled"].setChecked(False)
        assert dialog.apply()
        assert ctx.settings.get_str("tools.disabled") == "calc__die"
        assert ctx.settings.get_bool("tools.remember.enabled") is False
        from synthbot_desktop.services.tools import disabled_tools

        assert {"calc__die", "remember", "open"} <= disabled_tools(ctx.settings)
    finally:
        ctx.close()
