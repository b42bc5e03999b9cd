"""`synthbot-desktop chat` with tools, end to end: a scripted OpenAI-wire server, the real CLI
entry point, real databases; what went back on the wire and what was stored are read back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from synthbot_desktop.cli.main import main
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage, MemoryFact
from tests.support.fake_http import FakeServer
from tests.support.fake_tools_llm import install_script

KEY = "sk-proj-TOOLStestKEY0123456789abcdef"


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


@pytest.fixture
def env(app_env: dict[str, str], memory_keyring: object, monkeypatch: pytest.MonkeyPatch,
        server: FakeServer) -> dict[str, str]:
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    monkeypatch.setenv("SYNTHBOT_OPENAI_API_KEY", KEY)
    monkeypatch.setenv("SYNTHBOT_OPENAI_BASE_URL", server.url + "/v1")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)  # piped: no one to ask
    return app_env


def stored(url: str) -> tuple[list[ConversationMessage], list[ApiUsageLog], list[MemoryFact]]:
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            return (list(s.scalars(select(ConversationMessage).order_by(ConversationMessage.id))),
                    list(s.scalars(select(ApiUsageLog).order_by(ApiUsageLog.id))),
                    list(s.scalars(select(MemoryFact))))
    finally:
        engine.dispose()


def wire_tools(req_json: dict) -> list[str]:  # type: ignore[type-arg]
    return [t["function"]["name"] for t in req_json.get("tools", [])]


def test_two_tools_in_one_reply_are_run_stored_and_billed(env: dict[str, str], any_db_url: str,
                                                         server: FakeServer, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    install_script(server, [
        [("call_1", "get_current_time", "{}"), ("call_2", "remember", '{"fact": "My cat is called Miso"}')],
        "It is late, and I will remember Miso.",
    ])
    assert main(["chat", "What time is it? Also remember my cat is Miso.", "--provider", "openai", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["reply"] == "It is late, and I will remember Miso." and doc["complete"] is True
    assert doc["rounds"] == 2 and [c["name"] for c in doc["tool_calls"]] == ["get_current_time", "remember"]
    assert not any(c["is_error"] for c in doc["tool_calls"])

    first, second = (r.json() for r in server.requests)
    assert {"get_current_time", "remember", "search_history", "open"} <= set(wire_tools(first))
    assert "set_timer" not in wire_tools(first)  # a one-shot chat cannot deliver a timer
    results = [m for m in second["messages"] if m["role"] == "tool"]
    assert [m["tool_call_id"] for m in results] == ["call_1", "call_2"]
    assert json.loads(results[0]["content"])["iso"][:4].isdigit()  # the real local time went back
    assert "Miso" in results[1]["content"]

    messages, usage, facts = stored(any_db_url)
    assert [m.role for m in messages] == ["user", "tool", "tool", "assistant"]
    t1, t2 = messages[1], messages[2]
    assert t1.model == "get_current_time" and t1.timings["tool"]["call_id"] == "call_1"
    assert json.loads(t2.timings["tool"]["arguments"]) == {"fact": "My cat is called Miso"}
    assert t2.error is None and "Miso" in t2.content
    assert messages[3].content == doc["reply"] and messages[3].tokens_in == 50 + 90
    assert [f.content for f in facts] == ["My cat is called Miso"]
    # one usage row per LLM round, both tied to the answer
    assert len(usage) == 2 and all(u.message_id == messages[3].id and u.success for u in usage)
    assert [u.tokens_in for u in usage] == [50, 90]
    assert doc["usage"]["tokens_in"] == 140


def test_bad_calls_and_an_unconfirmed_side_effect_become_error_results(
        env: dict[str, str], server: FakeServer, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("x")
    install_script(server, [
        [("c1", "get_current_time", '{"zone": '),  # invalid JSON
         ("c2", "remember", '{"fact": 42}'),  # wrong type
         ("c3", "launch_rockets", "{}"),  # no such tool
         ("c4", "open", json.dumps({"target": str(target)}))],  # side effect, nobody confirmed
        "Sorry, I could not do those.",
    ])
    assert main(["chat", "do things", "--provider", "openai", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["reply"] == "Sorry, I could not do those." and doc["complete"] is True
    results = {m["tool_call_id"]: m["content"] for m in server.requests[1].json()["messages"] if m["role"] == "tool"}
    assert "not valid JSON" in results["c1"]
    assert "fact must be of type string" in results["c2"]
    assert "unknown tool 'launch_rockets'" in results["c3"]
    assert "did not allow open" in results["c4"]
    assert all(c["is_error"] for c in doc["tool_calls"])


def test_a_raising_tool_is_an_error_result_and_yes_confirms(env: dict[str, str], server: FakeServer,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    install_script(server, [[("c1", "open", '{"target": "/no/such/file/anywhere.txt"}')], "That file is missing."])
    assert main(["chat", "open my file", "--provider", "openai", "--yes", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (call,) = doc["tool_calls"]
    assert call["is_error"] and "open failed" in call["result"] and "only http(s) URLs" in call["result"]
    assert doc["reply"] == "That file is missing."


def test_settings_and_policy_take_tools_away(env: dict[str, str], server: FakeServer, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text('[locked]\n"tools.open.enabled" = false\n"tools.disabled" = "clipboard_read"\n')
    monkeypatch.setenv("SYNTHBOT_POLICY_FILE", str(policy))
    install_script(server, ["Hi."])
    assert main(["chat", "hello", "--provider", "openai"]) == 0
    offered = wire_tools(server.requests[-1].json())
    assert "open" not in offered and "clipboard_read" not in offered and "get_current_time" in offered
    assert main(["config", "set", "tools.open.enabled", "true"]) != 0  # locked: the user cannot turn it on
    capsys.readouterr()

    monkeypatch.setenv("SYNTHBOT_SET__tools__enabled", "false")
    assert main(["chat", "hello again", "--provider", "openai"]) == 0
    assert "tools" not in server.requests[-1].json()
    assert main(["chat", "and again", "--provider", "openai", "--no-tools"]) == 0
    assert "tools" not in server.requests[-1].json()
