"""Turns kept in the spool during an outage are visible to the very next command that reads:
`chat --session` sends them as context, `history` and `usage` list them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.storage.records import MessageRecord, UsageRecord
from tests.support.fake_http import FakeServer
from tests.support.fake_llm import base_url, install_fake_llm


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


def test_spooled_turn_is_context_and_history_before_anything_is_read(
        app_env: dict[str, str], memory_keyring: object, server: FakeServer,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    install_fake_llm(server, "ollama", "Noted.")
    monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", base_url("ollama", server))
    assert main(["chat", "first", "--provider", "ollama", "--model", "m", "--json"]) == 0
    session_id = json.loads(capsys.readouterr().out)["session_id"]

    # What the recorder leaves behind when the server is away during a turn.
    ctx = AppContext()
    ctx.recorder._spool(WriteUnit(
        messages=[MessageRecord(session_id, "user", "spooled question"),
                  MessageRecord(session_id, "assistant", "spooled answer")],
        usage=[UsageRecord("ollama", model="m", session_id=session_id, tokens_in=3, tokens_out=2)]))
    assert ctx.pending_records() == 1
    ctx.close()
    spool = Path(app_env["SYNTHBOT_DATA_DIR"]).rglob("pending.jsonl")
    assert list(spool)

    assert main(["chat", "third", "--provider", "ollama", "--model", "m", "--session", str(session_id)]) == 0
    capsys.readouterr()
    wire = server.requests[-1].json()["messages"]
    contents = [m["content"] for m in wire if m["role"] != "system"]
    assert contents == ["first", "Noted.", "spooled question", "spooled answer", "third"]
    assert AppContext().pending_records() == 0

    assert main(["history", "show", str(session_id), "--json"]) == 0
    shown = capsys.readouterr().out
    assert shown.count("spooled question") == 1 and shown.count("spooled answer") == 1
