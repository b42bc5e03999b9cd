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


def test_servers_are_added_switched_and_removed_on_the_page(qtbot: Any, app_env: dict[str, str], tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's form goes through the same services as `mcp add`: a missing command is one clear
    line (the form stays open), an env value goes to the (file) keyring and never into the list,
    the added server starts (that it receives the value: test_mcp_secrets, same add_server); disable
    keeps it but never starts it; remove asks first and deletes its keyring entry."""
    import json

    import keyring
    from keyring.backends import fail
    from PySide6.QtWidgets import QMessageBox

    from synthbot_desktop.gui.settings.mcp_server_dialog import McpServerDialog
    from synthbot_desktop.tools.mcp_client import config_path, load_servers

    secret = "tok-GUIaddedSECRET-0123456789"
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("SYNTHBOT_SET__secrets__allow_file_backend", "true")
    monkeypatch.setenv("SYNTHBOT_SET__tools__mcp__start_timeout_s", "90")
    ctx = AppContext()
    try:
        dialog = SettingsDialog(ctx)
        qtbot.addWidget(dialog)
        page = dialog.pages["tools"]
        assert page.servers.topLevelItemCount() == 0 and not page.remove_button.isEnabled()

        qtbot.mouseClick(page.add_button, Qt.MouseButton.LeftButton)
        form = page.add_dialog
        assert isinstance(form, McpServerDialog) and form.isVisible()
        form.name.setText("calc")
        form.command.setText("no-such-mcp-program")
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: form.error.isVisible(), timeout=5000)
        assert "command not found: no-such-mcp-program" in form.error.text() and form.isVisible()

        form.command.setText(sys.executable)
        form.args.setText(f"'{SERVER}'")
        key, value = form.env.add_row()
        key.setText("API_TOKEN")
        value.setText(secret)
        assert value.echoMode() == value.EchoMode.Password  # never readable on screen
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not form.isVisible(), timeout=5000)
        assert page.status.text().startswith("Added calc")
        assert page.servers.topLevelItemCount() == 1 and page.servers.topLevelItem(0).text(1) == "not checked"
        text = config_path(ctx.paths.config_dir).read_text()
        assert secret not in text and json.loads(text)["servers"]["calc"]["env"] == {
            "API_TOKEN": {"keyring": "mcp:calc:API_TOKEN"}}
        assert load_servers(ctx.paths.config_dir)["calc"].args == [SERVER]

        qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.status.text() == "1 of 1 servers ready.", timeout=120_000)
        assert "calc__env_digest" in page.tool_boxes

        page.servers.setCurrentItem(page.servers.topLevelItem(0))
        assert page.enable_button.text() == "Disable"
        qtbot.mouseClick(page.enable_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: page.status.text() == "calc disabled.", timeout=5000)
        assert page.servers.topLevelItem(0).text(1) == "disabled" and not load_servers(ctx.paths.config_dir)["calc"].enabled
        page.servers.setCurrentItem(page.servers.topLevelItem(0))
        assert page.enable_button.text() == "Enable"
        qtbot.mouseClick(page.check_button, Qt.MouseButton.LeftButton)
        assert page.status.text() == "No enabled MCP servers are configured."  # nothing started

        page.servers.setCurrentItem(page.servers.topLevelItem(0))
        qtbot.mouseClick(page.remove_button, Qt.MouseButton.LeftButton)
        box = page.findChild(QMessageBox, "mcp_remove_confirm")
        assert box is not None and box.isVisible()
        (remove,) = [b for b in box.buttons() if b.text() == "Remove"]
        remove.click()
        qtbot.waitUntil(lambda: page.status.text() == "Removed calc.", timeout=5000)
        assert page.servers.topLevelItemCount() == 0 and load_servers(ctx.paths.config_dir) == {}
        assert ctx.keystore.get_entry("mcp:calc:API_TOKEN") is None  # its secret went too
    finally:
        ctx.close()
        keyring.set_keyring(previous)
