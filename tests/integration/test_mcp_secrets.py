"""MCP servers' environment values live only in the OS keyring (the file backend here, as on a
machine without Secret Service): the server list keeps a reference, `mcp list`, logs and every other
file never hold the value, and the real test server still receives it. Plain values an older version
wrote keep working and move to the keyring on the next save; without a keyring, adding a secret
fails instead of writing it in plain text."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.llm.base import ToolCall
from synthbot_desktop.tools.mcp_client import config_path, load_servers, manager_for
from synthbot_desktop.tools.registry import ToolRegistry

SERVER = str(Path(__file__).resolve().parents[1] / "support" / "mcp_server.py")
SECRET = "tok-MCPenvSECRET-0123456789abcdef"
LEGACY = "legacy-PLAINvalue-9876543210"


@pytest.fixture
def file_keyring(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No OS keyring, the app's opt-in private key file instead (the real FileKeyring)."""
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setenv("SYNTHBOT_SET__secrets__allow_file_backend", "true")
    monkeypatch.setenv("SYNTHBOT_SET__tools__mcp__start_timeout_s", "90")
    yield Path(app_env["SYNTHBOT_DATA_DIR"]) / "keys.json"
    keyring.set_keyring(previous)


def _digests(ctx: AppContext, calls: dict[str, str]) -> dict[str, str]:
    """Start the stored servers and ask each (server -> env name) for its value's digest."""
    async def go() -> dict[str, str]:
        reg = ToolRegistry()
        reg.providers.append(manager_for(ctx, load_servers(ctx.paths.config_dir)))
        try:
            await reg.refresh()
            return {srv: (await reg.execute(ToolCall(srv, f"{srv}__env_digest", json.dumps({"name": name})))).content
                    for srv, name in calls.items()}
        finally:
            await reg.aclose()

    return asyncio.run(asyncio.wait_for(go(), 180))


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _files_holding(root: Path, text: str, *, but: Path) -> list[str]:
    return [str(p) for p in root.rglob("*") if p.is_file() and p != but and text in p.read_text(errors="replace")]


def test_env_values_live_only_in_the_keyring(file_keyring: Path, app_env: dict[str, str], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str],
                                            caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    assert main(["mcp", "add", "calc", "--env", f"API_TOKEN={SECRET}", "--env", "MODE=a=b",
                 "--", sys.executable, SERVER]) == 0
    assert main(["mcp", "list"]) == 0
    assert main(["mcp", "list", "--json"]) == 0
    out = capsys.readouterr()
    ctx = AppContext()
    try:
        stored = json.loads(config_path(ctx.paths.config_dir).read_text())["servers"]["calc"]
        assert stored["env"] == {"API_TOKEN": {"keyring": "mcp:calc:API_TOKEN"}, "MODE": {"keyring": "mcp:calc:MODE"}}
        assert SECRET in file_keyring.read_text()  # where it lives
        assert _files_holding(tmp_path, SECRET, but=file_keyring) == []  # config, logs, spool: nowhere else
        assert SECRET not in out.out + out.err + caplog.text
        text_line, json_doc = out.out.split("\n", 1)
        assert "env: API_TOKEN, MODE" in text_line
        assert json.loads(json_doc)["servers"][0]["env"] == ["API_TOKEN", "MODE"]  # names only

        assert _digests(ctx, {"calc": "API_TOKEN"}) == {"calc": _sha(SECRET)}  # the server got the value
        assert _files_holding(tmp_path, SECRET, but=file_keyring) == [] and SECRET not in caplog.text

        from synthbot_desktop.services.data_rights import _keyring_names

        assert "mcp:calc:API_TOKEN" in _keyring_names(ctx)  # `data delete-all` erases it too
        assert main(["mcp", "remove", "calc"]) == 0
        assert SECRET not in file_keyring.read_text()  # removing the server removes its secrets
    finally:
        ctx.close()


def test_plain_entries_keep_working_and_move_to_the_keyring_on_save(file_keyring: Path, app_env: dict[str, str],
                                                                   tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    ctx = AppContext()
    path = config_path(ctx.paths.config_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"servers": {"old": {"command": sys.executable, "args": [SERVER],
                                                    "env": {"OLD_KEY": LEGACY}}}}))
    try:
        assert _digests(ctx, {"old": "OLD_KEY"}) == {"old": _sha(LEGACY)}  # an older file still works
        assert main(["mcp", "add", "web", "--url", "http://127.0.0.1:9/mcp"]) == 0  # any save migrates
        assert json.loads(path.read_text())["servers"]["old"]["env"] == {"OLD_KEY": {"keyring": "mcp:old:OLD_KEY"}}
        assert LEGACY in file_keyring.read_text() and _files_holding(tmp_path, LEGACY, but=file_keyring) == []
        assert main(["mcp", "disable", "web"]) == 0
        capsys.readouterr()
        assert main(["mcp", "tools", "web", "--json"]) == 0  # listed as disabled, never started
        assert json.loads(capsys.readouterr().out)["servers"] == [
            {"name": "web", "status": "disabled", "error": None, "tools": []}]
        old = load_servers(ctx.paths.config_dir)["old"]
        assert (old.env, ctx.keystore.get_entry(old.env_refs["OLD_KEY"])) == ({}, LEGACY)  # what a start reads
    finally:
        ctx.close()


def test_without_a_keyring_a_secret_is_refused_not_written(app_env: dict[str, str], tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        assert main(["mcp", "add", "calc", "--env", f"API_TOKEN={SECRET}", "--", sys.executable, SERVER]) == 1
        err = capsys.readouterr().err
        assert "no OS keyring" in err and SECRET not in err
        assert _files_holding(tmp_path, SECRET, but=tmp_path / "none") == []
        ctx = AppContext()
        path = config_path(ctx.paths.config_dir)
        assert not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"servers": {"old": {"command": sys.executable, "env": {"OLD_KEY": LEGACY}}}}))
        assert main(["mcp", "add", "web", "--url", "http://127.0.0.1:9/mcp"]) == 0  # a save without a keyring
        assert json.loads(path.read_text())["servers"]["old"]["env"] == {"OLD_KEY": LEGACY}  # kept, still working
        assert "stay in plain text" in caplog.text and LEGACY not in caplog.text
        ctx.close()
    finally:
        keyring.set_keyring(previous)


def test_a_missing_keyring_value_fails_the_server_by_name(file_keyring: Path, app_env: dict[str, str]) -> None:
    ctx = AppContext()
    path = config_path(ctx.paths.config_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"servers": {"calc": {"command": sys.executable, "args": [SERVER],
                                                     "env": {"API_TOKEN": {"keyring": "mcp:calc:API_TOKEN"}}}}}))
    try:
        async def go() -> tuple[str, str | None]:
            manager = manager_for(ctx, load_servers(ctx.paths.config_dir))
            try:
                await manager.start_all()
                srv = manager.servers["calc"]
                return srv.status, srv.error
            finally:
                await manager.aclose()

        status, error = asyncio.run(go())
        assert status == "failed" and "API_TOKEN" in (error or "") and "keyring has no value" in (error or "")
    finally:
        ctx.close()


@pytest.mark.parametrize(("argv", "message"), [
    (["mcp", "add", "x", "--", "no-such-program-synthbot"], "command not found: no-such-program-synthbot"),
    (["mcp", "add", "x", "--", "/nonexistent/server"], "command not found: /nonexistent/server"),
    (["mcp", "add", "x", "--env", "TOKEN", "--", sys.executable], "needs KEY=VALUE"),
    (["mcp", "add", "x", "--env", "1BAD=v", "--", sys.executable], "not a usable environment variable name"),
    (["mcp", "add", "x", "--url", "ftp://host/mcp"], "not an http(s) URL"),
    (["mcp", "add", "x", "--env", "A=b", "--url", "http://127.0.0.1:9/mcp"], "stdio server only"),
])
def test_add_is_validated_with_one_clear_line(app_env: dict[str, str], argv: list[str], message: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (Path(app_env["SYNTHBOT_CONFIG_DIR"]) / "mcp_servers.json").exists()
