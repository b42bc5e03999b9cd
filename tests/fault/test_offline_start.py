"""MySQL unreachable when a command STARTS (issue #14 item 1): the turn still runs.

A scripted 40-turn `chat` conversation on MariaDB behind a proxy the test owns (the shared server
is never touched), cut three times: the first cut is there before the very first command (the
session itself is created offline and the schema does not even exist yet), one begins in the
middle of a turn and lasts for the next commands, one begins between two commands. Every turn
must answer (0 refused), the model must get the whole conversation every time (from the local
cache while offline), and once the server is back every message and usage row must be stored
exactly once, in one session.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage, ConversationSession
from tests.support.fake_http import FakeServer, Request, Response
from tests.support.fake_llm import CHAT_ROUTES, base_url, chat_response
from tests.support.mariadb import TcpProxy

TURNS = 40
# turn -> "before": the server is gone before the command starts; "mid": it goes while the model answers.
CUTS = {0: "before", 14: "mid", 27: "before"}
OFFLINE_TURNS = 3  # each cut lasts this many turns (the cut turn included)


def _offline(n: int) -> bool:
    return any(start <= n < start + OFFLINE_TURNS for start in CUTS)


@pytest.mark.mysql
def test_turns_run_when_the_server_is_gone_before_the_command_starts(
        app_env: dict[str, str], memory_keyring: object, mysql_url: str, proxy: TcpProxy,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    monkeypatch.setenv("SYNTHBOT_SET__database__connect_timeout", "2")
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", mysql_url.replace(":3306/", f":{proxy.port}/"))
    turn = {"n": 0}

    def handler(req: Request) -> Response:
        if CUTS.get(turn["n"]) == "mid":
            proxy.cut()  # the server goes away while the model is answering
        return chat_response("ollama", req, f"reply {turn['n']}")

    refused = 0
    spooled_turns = 0
    with FakeServer() as server:
        server.add(*CHAT_ROUTES["ollama"], handler)
        monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", base_url("ollama", server))
        session: str | None = None
        expected: list[str] = []
        for n in range(TURNS):
            turn["n"] = n
            if CUTS.get(n) == "before":
                proxy.cut()
            elif not _offline(n):
                proxy.restore()
            argv = ["chat", f"question {n}", "--provider", "ollama", "--model", "m", "--json"]
            if session is not None:
                argv += ["--session", session]
            code = main(argv)
            captured = capsys.readouterr()
            assert "Traceback" not in captured.err
            if code != 0:
                refused += 1
                continue
            doc = json.loads(captured.out)
            session = str(doc["session_id"] or doc["session_uid"])
            sent = [m["content"] for m in server.requests[-1].json()["messages"] if m["role"] != "system"]
            assert sent == [*expected, f"question {n}"], f"turn {n}: context incomplete"
            expected += [f"question {n}", f"reply {n}"]
            if _offline(n):
                assert doc["spooled"] is True, f"turn {n} claims to be stored while the server is away"
                assert "kept in the local spool" in captured.err
                spooled_turns += 1
            else:
                assert doc["spooled"] is False, f"turn {n}: {captured.err}"
                assert "spool" not in captured.err  # never claims spooling when nothing was spooled
        assert refused == 0
        assert spooled_turns == len(CUTS) * OFFLINE_TURNS
        proxy.restore()
        assert main(["history", "show", session, "--json"]) == 0
        capsys.readouterr()
    assert AppContext().pending_records() == 0

    engine = create_engine(mysql_url)
    try:
        with Session(engine) as s:
            contents = list(s.scalars(select(ConversationMessage.content).order_by(ConversationMessage.id)))
            sessions = s.scalar(select(func.count()).select_from(ConversationSession))
            usage = s.scalar(select(func.count()).select_from(ApiUsageLog))
            unlinked = s.scalar(select(func.count()).select_from(ApiUsageLog).where(
                (ApiUsageLog.message_id.is_(None)) | (ApiUsageLog.session_id.is_(None))))
    finally:
        engine.dispose()
    assert contents == expected  # 0 lost, 0 duplicated, in order
    assert sessions == 1
    assert usage == TURNS and unlinked == 0


def test_offline_session_unknown_here_is_one_line(
        app_env: dict[str, str], memory_keyring: object, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Continuing a session this computer never saw while the server is away: one clear line."""
    proxy = TcpProxy()
    try:
        proxy.cut()
        monkeypatch.setenv("SYNTHBOT_SET__database__connect_timeout", "2")
        monkeypatch.setenv("SYNTHBOT_DATABASE_URL", f"mysql+pymysql://root@127.0.0.1:{proxy.port}/nowhere")
        monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", "http://127.0.0.1:9")
        assert main(["chat", "hi", "--provider", "ollama", "--model", "m", "--session", "7"]) != 0
        err = capsys.readouterr().err
        assert err.count("error:") == 1 and "cannot be continued offline" in err and "Traceback" not in err
        # No turn was spooled (nothing claims it was); only the error row the person was shown
        # waits for the server (issue #18: error_logs survive an outage).
        spool = AppContext().paths.spool_dir / "pending.jsonl"
        units = [json.loads(line) for line in spool.read_text(encoding="utf-8").splitlines()]
        assert [(u["messages"], u["usage"], [e["source"] for e in u["errors"]]) for u in units] == [
            ([], [], ["cli.chat"])]
    finally:
        proxy.close()
