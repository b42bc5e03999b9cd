"""MCP servers through the official SDK: a few-line server (tests/support/mcp_server.py, the 2.x
``MCPServer``) started from the test over stdio and streamable HTTP; `mcp add|list|tools|remove`;
tools called through the registry and by the model in `chat`; crashing and garbage-printing
servers fail cleanly with their stderr tail, never a hung turn."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthbot_desktop.cli.main import main
from synthbot_desktop.llm.base import ToolCall
from synthbot_desktop.tools.mcp_client import McpManager, ServerConfig
from synthbot_desktop.tools.registry import ToolRegistry
from tests.support.fake_http import FakeServer
from tests.support.fake_tools_llm import install_script

SERVER = str(Path(__file__).resolve().parents[1] / "support" / "mcp_server.py")
START = 90.0  # generous: a Python server starting on a loaded 2-core machine


@pytest.fixture
def env(app_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("SYNTHBOT_SET__tools__mcp__start_timeout_s", str(START))
    return app_env


def test_mcp_cli_add_list_tools_remove(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mcp", "add", "calc", "--", sys.executable, SERVER]) == 0
    assert main(["mcp", "add", "junk", "--", sys.executable, SERVER, "garbage"]) == 0
    assert main(["mcp", "add", "boom", "--", sys.executable, SERVER, "crash"]) == 0
    assert main(["mcp", "add", "web", "--url", "http://127.0.0.1:9/mcp"]) == 0
    assert main(["mcp", "add", "calc", "--", "other"]) != 0  # exists: needs --replace
    assert main(["mcp", "add", "bad__name", "--", "x"]) != 0
    assert main(["mcp", "add", "nothing"]) != 0
    capsys.readouterr()
    assert main(["mcp", "list", "--json"]) == 0
    listed = {s["name"]: s for s in json.loads(capsys.readouterr().out)["servers"]}
    assert listed["calc"]["transport"] == "stdio" and SERVER in listed["calc"]["command"]
    assert listed["web"]["transport"] == "http"
    assert main(["mcp", "remove", "web"]) == 0

    started = time.monotonic()
    assert main(["mcp", "tools", "--json"]) == 1  # some servers failed
    assert time.monotonic() - started < START  # failures are noticed, not waited out
    report = {s["name"]: s for s in json.loads(capsys.readouterr().out)["servers"]}
    assert report["calc"]["status"] == "ready"
    assert {t["name"] for t in report["calc"]["tools"]} == {"calc__add", "calc__slow", "calc__fail", "calc__die",
                                                              "calc__env_digest"}
    assert report["junk"]["status"] == "failed" and "not MCP on stdout" in report["junk"]["error"]
    assert "starting up the garbage server" in report["junk"]["error"]  # its stderr tail
    assert report["boom"]["status"] == "failed" and "missing_dependency" in report["boom"]["error"]

    assert main(["mcp", "remove", "junk"]) == 0 and main(["mcp", "remove", "boom"]) == 0
    assert main(["mcp", "remove", "boom"]) != 0
    capsys.readouterr()
    assert main(["mcp", "tools", "calc"]) == 0
    assert "calc__add" in capsys.readouterr().out


def test_calls_time_out_fail_and_a_crash_marks_the_server_failed() -> None:
    async def go() -> None:
        mcp = McpManager({"calc": ServerConfig("calc", sys.executable, [SERVER])}, start_timeout_s=START,
                         call_timeout_s=1.0)
        reg = ToolRegistry()
        reg.providers.append(mcp)
        try:
            await reg.refresh()
            assert reg.tools["calc__add"].parameters["required"] == ["a", "b"]
            ok = await reg.execute(ToolCall("1", "calc__add", '{"a": 2, "b": 3}'))
            assert (ok.is_error, ok.content) == (False, "5")
            bad = await reg.execute(ToolCall("2", "calc__add", '{"a": "two"}'))
            assert bad.is_error and "arguments.b is required" in bad.content  # checked before the server
            raised = await reg.execute(ToolCall("3", "calc__fail", '{"message": "nope"}'))
            assert raised.is_error and "fail" in raised.content
            started = time.monotonic()
            slow = await reg.execute(ToolCall("4", "calc__slow", '{"seconds": 30}'))
            assert slow.is_error and "did not finish within 1 s" in slow.content
            assert time.monotonic() - started < 10
            again = await reg.execute(ToolCall("5", "calc__add", '{"a": 1, "b": 1}'))
            assert again.content == "2"  # a timed-out call leaves the server usable
            died = await reg.execute(ToolCall("6", "calc__die", "{}"))
            assert died.is_error
            server = mcp.servers["calc"]
            assert server.status == "failed" and "fatal: die() was called" in (server.error or "")
            after = await reg.execute(ToolCall("7", "calc__add", '{"a": 1, "b": 1}'))
            assert after.is_error and "not running" in after.content
        finally:
            await reg.aclose()

    asyncio.run(asyncio.wait_for(go(), START * 2))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server() -> Iterator[str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, SERVER, "http", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START
        while time.monotonic() < deadline:  # wait until it listens
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(10)


def test_streamable_http_server(http_server: str) -> None:
    async def go() -> str:
        mcp = McpManager({"web": ServerConfig("web", url=http_server)}, start_timeout_s=START, call_timeout_s=10)
        reg = ToolRegistry()
        reg.providers.append(mcp)
        try:
            await reg.refresh()
            return (await reg.execute(ToolCall("1", "web__add", '{"a": 20, "b": 22}'))).content
        finally:
            await reg.aclose()

    assert asyncio.run(go()) == "42"


def test_the_model_calls_an_mcp_tool_in_chat(env: dict[str, str], memory_keyring: object,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with FakeServer() as llm:
        monkeypatch.setenv("SYNTHBOT_OPENAI_API_KEY", "sk-proj-MCPchatKEY0123456789abcdef")
        monkeypatch.setenv("SYNTHBOT_OPENAI_BASE_URL", llm.url + "/v1")
        install_script(llm, [[("m1", "calc__add", '{"a": 40, "b": 2}')], "The answer is 42."])
        assert main(["mcp", "add", "calc", "--", sys.executable, SERVER]) == 0
        assert main(["chat", "what is 40 plus 2?", "--provider", "openai", "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        offered = [t["function"]["name"] for t in llm.requests[0].json()["tools"]]
        assert "calc__add" in offered and "get_current_time" in offered  # offered like the built-ins
        (result,) = [m for m in llm.requests[1].json()["messages"] if m["role"] == "tool"]
        assert result["content"] == "42" and result["tool_call_id"] == "m1"
        assert doc["reply"] == "The answer is 42." and doc["tool_calls"][0]["name"] == "calc__add"
