"""`synthbot-desktop chat` / `models` end to end: fake provider servers, real databases
(SQLite and MariaDB), the real CLI entry point, rows read back with SQLAlchemy."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from synthbot_desktop.cli.main import main
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage, ConversationSession
from tests.support.fake_http import FakeServer, Response
from tests.support.fake_llm import CHAT_ROUTES, base_url, chat_response, install_fake_llm

KEY = "sk-ant-api03-INTEGRATIONsecretKEY0123456789"
REPLY = "Paris is the capital of France."


@pytest.fixture
def server() -> Iterator[FakeServer]:
    with FakeServer() as s:
        yield s


@pytest.fixture
def env(app_env: dict[str, str], memory_keyring: object, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    for kind in ("openai", "anthropic", "gemini"):
        monkeypatch.setenv(f"SYNTHBOT_{kind.upper()}_API_KEY", KEY)
    return app_env


def point_at(monkeypatch: pytest.MonkeyPatch, kind: str, server: FakeServer) -> None:
    monkeypatch.setenv(f"SYNTHBOT_{kind.upper()}_BASE_URL", base_url(kind, server))


def rows(url: str) -> tuple[list[ConversationSession], list[ConversationMessage], list[ApiUsageLog]]:
    engine = create_engine(url)
    try:
        with Session(engine) as s:
            return (list(s.scalars(select(ConversationSession))),
                    list(s.scalars(select(ConversationMessage).order_by(ConversationMessage.id))),
                    list(s.scalars(select(ApiUsageLog).order_by(ApiUsageLog.id))))
    finally:
        engine.dispose()


def test_chat_stores_turn_and_usage_on_both_databases(env: dict[str, str], any_db_url: str, server: FakeServer,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    install_fake_llm(server, "anthropic", REPLY, tokens_per_second=200)
    point_at(monkeypatch, "anthropic", server)
    assert main(["chat", "What is the capital of France?", "--provider", "anthropic",
                 "--model", "claude-sonnet-4-5-20250929"]) == 0
    out = capsys.readouterr().out
    assert out == REPLY + "\n"
    sessions, messages, usage = rows(any_db_url)
    assert len(sessions) == 1 and sessions[0].message_count == 2
    assert [(m.role, m.content, m.interrupted) for m in messages] == [
        ("user", "What is the capital of France?", False), ("assistant", REPLY, False)]
    (u,) = usage
    sent = server.requests[0]
    assert u.provider == "anthropic" and u.model == "claude-sonnet-4-5-20250929" and u.success
    assert u.tokens_in == len(sent.body) // 4 and u.tokens_out == 6 and not u.tokens_estimated
    assert u.request_id == "req_fakeAnthropic0000000001" and u.status_code == 200
    assert u.endpoint == "/v1/messages" and u.session_id == sessions[0].id and u.message_id == messages[1].id
    assert u.latency_ms is not None and u.ttfb_ms is not None and 0 < u.ttfb_ms <= u.latency_ms
    expected = (Decimal(u.tokens_in) * 3 + Decimal(6) * 15) / Decimal(1_000_000)
    assert u.cost_usd == expected.quantize(Decimal("0.000001"))

    # Continue the session: earlier turns travel as context, in order.
    assert main(["chat", "And Germany?", "--provider", "anthropic", "--session", str(sessions[0].id), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["session_id"] == sessions[0].id and doc["reply"] == REPLY and doc["complete"] is True
    wire = server.requests[-1].json()["messages"]
    assert [m["role"] for m in wire] == ["user", "assistant", "user"] and wire[-1]["content"] == "And Germany?"
    _, messages, usage = rows(any_db_url)
    assert len(messages) == 4 and len(usage) == 2
    assert KEY not in json.dumps(doc)


@pytest.mark.parametrize("kind", ["openai", "gemini", "ollama"])
def test_chat_against_each_provider(kind: str, env: dict[str, str], server: FakeServer,
                                    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    install_fake_llm(server, kind, "Short answer here.", first_token_delay=0.05)
    point_at(monkeypatch, kind, server)
    assert main(["chat", "Hi", "--provider", kind, "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["reply"] == "Short answer here." and doc["usage"]["tokens_out"] == 3
    assert doc["usage"]["ttft_ms"] >= 50
    if kind == "ollama":
        assert doc["usage"]["cost_usd"] == "0.000000"
    elif kind == "openai":
        assert doc["usage"]["cost_usd"] is not None  # gpt-4o-mini is priced
    if kind == "gemini":  # default model from settings providers.gemini.model
        assert server.requests[0].path == "/v1beta/models/gemini-2.0-flash:streamGenerateContent"


def test_unknown_model_cost_is_null_not_zero(env: dict[str, str], server: FakeServer,
                                             monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    db_url = f"sqlite:///{env['SYNTHBOT_DATA_DIR']}/t.sqlite3"
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", db_url)
    install_fake_llm(server, "openai", "ok")
    point_at(monkeypatch, "openai", server)
    assert main(["chat", "Hi", "--provider", "openai", "--model", "local-llama-gguf", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["usage"]["cost_usd"] is None
    _, _, usage = rows(db_url)
    assert usage[0].cost_usd is None and usage[0].tokens_out == 1 and usage[0].success


def test_auth_failure_keeps_user_text_logs_usage_and_hides_key(env: dict[str, str], server: FakeServer,
                                                              monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    db_url = f"sqlite:///{env['SYNTHBOT_DATA_DIR']}/t.sqlite3"
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", db_url)
    method, pattern = CHAT_ROUTES["openai"]
    server.add(method, pattern, lambda r: Response.json(
        {"error": {"message": f"Incorrect API key provided: {r.headers['authorization'][7:]}.",
                   "type": "invalid_request_error", "code": "invalid_api_key"}}, 401, {"x-request-id": "req_401"}))
    point_at(monkeypatch, "openai", server)
    assert main(["chat", "Hello?", "--provider", "openai"]) == 1
    err = capsys.readouterr().err
    assert "rejected the API key" in err and "keys set openai" in err and KEY not in err
    _, messages, usage = rows(db_url)
    assert [(m.role, m.content) for m in messages] == [("user", "Hello?")]
    (u,) = usage
    assert not u.success and u.error_kind == "authentication" and u.status_code == 401 and u.request_id == "req_401"
    assert KEY not in (u.error_message or "") and "Incorrect API key" in (u.error_message or "")


def test_cut_stream_stores_partial_reply_marked(env: dict[str, str], server: FakeServer,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    db_url = f"sqlite:///{env['SYNTHBOT_DATA_DIR']}/t.sqlite3"
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", db_url)

    def handler(req):  # type: ignore[no-untyped-def]
        full = chat_response("ollama", req, "one two three four five six")
        chunks = [c for c in full.body if isinstance(c, bytes)]  # type: ignore[union-attr]
        return Response(200, full.headers, chunks[:3], cut=True)

    method, pattern = CHAT_ROUTES["ollama"]
    server.add(method, pattern, handler)
    point_at(monkeypatch, "ollama", server)
    assert main(["chat", "Count", "--provider", "ollama"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "one two three\n"
    assert "reply incomplete" in captured.err
    _, messages, usage = rows(db_url)
    assert messages[1].role == "assistant" and messages[1].content == "one two three"
    assert messages[1].interrupted and "could not be reached" in (messages[1].error or "")
    assert not usage[0].success and usage[0].tokens_estimated and usage[0].error_kind == "connection"


def test_bad_input_messages(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SYNTHBOT_OPENAI_API_KEY")
    assert main(["chat", "hi", "--provider", "openai"]) != 0
    assert "no API key is set for openai" in capsys.readouterr().err
    assert main(["chat", "   ", "--provider", "ollama"]) == 2
    assert "message is empty" in capsys.readouterr().err
    monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", "http://127.0.0.1:9")
    assert main(["chat", "hi", "--provider", "ollama", "--session", "999"]) == 2
    assert "no conversation session 999" in capsys.readouterr().err


def test_models_command(env: dict[str, str], server: FakeServer, monkeypatch: pytest.MonkeyPatch,
                        capsys: pytest.CaptureFixture[str]) -> None:
    install_fake_llm(server, "gemini", models=["gemini-2.0-flash", "gemini-9-experimental"])
    point_at(monkeypatch, "gemini", server)
    monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", "http://127.0.0.1:9")
    assert main(["models", "--provider", "gemini", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (g,) = doc["providers"]
    by_id = {m["id"]: m for m in g["models"]}
    assert set(by_id) == {"gemini-2.0-flash", "gemini-9-experimental"}  # embedding model filtered out
    flash = by_id["gemini-2.0-flash"]
    assert flash["default"] is True and Decimal(flash["input_per_mtok"]) == Decimal("0.1")
    assert by_id["gemini-9-experimental"]["input_per_mtok"] is None
    assert main(["models", "--provider", "ollama"]) == 1
    assert "could not be reached" in capsys.readouterr().err


def test_chat_json_reports_the_stored_reply_id_to_rate(env: dict[str, str], server: FakeServer,
                                                       monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    """#17: `chat --json` gives `assistant_message_id`, the id `history rate` takes."""
    install_fake_llm(server, "openai", "Short answer here.")
    point_at(monkeypatch, "openai", server)
    assert main(["chat", "Hi", "--provider", "openai", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    mid = doc["assistant_message_id"]
    assert isinstance(mid, int)
    assert main(["history", "rate", str(mid), "up", "--comment", "nice"]) == 0
    capsys.readouterr()
    assert main(["history", "show", str(doc["session_id"]), "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    reply = next(m for m in shown["messages"] if m["id"] == mid)
    assert reply["uid"] == doc["assistant_message_uid"] and reply["rating"]["rating"] == 1
