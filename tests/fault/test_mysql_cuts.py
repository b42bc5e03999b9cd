"""A scripted conversation on MariaDB behind a proxy the test owns, cut three times in the middle of
a turn: every turn lands exactly once and the model always sees the whole conversation."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage
from tests.support.fake_http import FakeServer, Request, Response
from tests.support.fake_llm import CHAT_ROUTES, base_url, chat_response
from tests.support.mariadb import TcpProxy

TURNS = 200
CUT_AT = {40, 110, 170}


@pytest.mark.mysql
def test_three_cuts_mid_turn_lose_and_duplicate_nothing(
        app_env: dict[str, str], memory_keyring: object, mysql_url: str, proxy: TcpProxy,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    monkeypatch.setenv("SYNTHBOT_SET__database__connect_timeout", "2")
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", mysql_url.replace(":3306/", f":{proxy.port}/"))
    turn = {"n": 0}

    def handler(req: Request) -> Response:
        if turn["n"] in CUT_AT:
            proxy.cut()  # the server goes away while the model is answering
        return chat_response("ollama", req, f"reply {turn['n']}")

    with FakeServer() as server:
        server.add(*CHAT_ROUTES["ollama"], handler)
        monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", base_url("ollama", server))
        session_id = None
        expected: list[str] = []
        spooled_turns = 0
        for n in range(TURNS):
            turn["n"] = n
            proxy.restore()
            argv = ["chat", f"question {n}", "--provider", "ollama", "--model", "m", "--json"]
            if session_id is not None:
                argv += ["--session", str(session_id)]
            assert main(argv) == 0, capsys.readouterr().err
            captured = capsys.readouterr()
            assert "Traceback" not in captured.err
            doc = json.loads(captured.out)
            session_id = doc["session_id"]
            sent = [m["content"] for m in server.requests[-1].json()["messages"] if m["role"] != "system"]
            assert sent == [*expected, f"question {n}"], f"turn {n}: context incomplete"
            expected += [f"question {n}", f"reply {n}"]
            if n in CUT_AT:  # the turn is in the local spool, not lost and not yet in the database
                assert AppContext().pending_records() == 1
                spooled_turns += 1
        assert spooled_turns == 3
        proxy.restore()
        assert main(["history", "show", str(session_id), "--json"]) == 0
        capsys.readouterr()

    engine = create_engine(mysql_url)
    try:
        with Session(engine) as s:
            contents = list(s.scalars(select(ConversationMessage.content).order_by(ConversationMessage.id)))
            usage = s.scalar(select(func.count()).select_from(ApiUsageLog))
    finally:
        engine.dispose()
    assert contents == expected  # 0 lost, 0 duplicated, in order
    assert usage == TURNS
