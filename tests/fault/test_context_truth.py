"""Issue #14 item 9: a message too long for the model is cut for the request (stored whole), and
`chat --json` says truthfully what the model did not see instead of ``"dropped": 0``."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthbot_desktop.cli import main as cli_main
from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.context import build_context
from tests.support.fake_http import FakeServer
from tests.support.fake_llm import base_url, start_fake_llm


def test_build_context_counts_the_characters_it_cut() -> None:
    text = "x" * 100_000 + " the question?"
    ctx = build_context([], None, 1000, new_message=ChatMessage("user", text))
    kept = ctx.messages[-1].content
    assert kept.endswith("the question?") and kept.startswith("…")
    assert ctx.trimmed_chars == len(text) - (len(kept) - 1) > 90_000
    assert ctx.truncated and ctx.dropped == 0
    fits = build_context([], None, 1000, new_message=ChatMessage("user", "short"))
    assert fits.trimmed_chars == 0 and not fits.truncated


@pytest.fixture
def llm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeServer]:
    for key in [k for k in os.environ if k.startswith("SYNTHBOT_")]:
        monkeypatch.delenv(key)
    server = start_fake_llm("ollama", "Noted.")
    monkeypatch.setenv("SYNTHBOT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SYNTHBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", base_url("ollama", server))
    try:
        yield server
    finally:
        server.stop()


def test_chat_json_reports_a_cut_five_megabyte_message(llm: FakeServer, capsys: pytest.CaptureFixture[str]) -> None:
    text = ("word " * 1_000_000) + "what is the answer?"  # ~5 MB
    code = cli_main.main(["chat", text, "--provider", "ollama", "--model", "m", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    doc = json.loads(out)
    sent = llm.requests[-1].json()["messages"][-1]["content"]
    assert sent.endswith("what is the answer?") and len(sent) < len(text)
    ctx = doc["context"]
    assert ctx["truncated"] is True
    assert ctx["trimmed_chars"] == len(text) - (len(sent) - 1)  # minus the "…" marker
    assert "cut" in err  # said on stderr too, not only in the JSON
