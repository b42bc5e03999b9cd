"""An error shown while the database is down is not lost (issue #18): its error_logs row goes to the
recorder's durable spool, in order with the turns spooled meanwhile, and lands once, in order, when
the database answers again, even if the replay is repeated (a crash after the commit, before the
spool was rewritten).

MariaDB is cut through a proxy the test owns (the shared server is never stopped); SQLite is "down"
when its file cannot be opened (its folder is a file), then the URL is fixed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.redaction import register_secret
from synthbot_desktop.services import error_reports
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import ConversationMessage, ErrorLog, User
from synthbot_desktop.storage.recorder import WriteUnit
from synthbot_desktop.storage.records import MessageRecord, SessionSpec
from tests.support.mariadb import TcpProxy

SECRET = "sk-proj-" + "Q7" * 12


@pytest.fixture
def proxy() -> Iterator[TcpProxy]:
    p = TcpProxy()
    yield p
    p.close()


def _rows(url: str) -> list[tuple[str, str | None, str, object]]:
    db = Database(make_engine(url))
    try:
        with db.session() as s:
            return [tuple(r) for r in s.execute(  # type: ignore[misc]
                select(ErrorLog.source, User.username, ErrorLog.message, ErrorLog.created_at)
                .outerjoin(User, User.id == ErrorLog.user_id).order_by(ErrorLog.id))]
    finally:
        db.dispose()


def _messages(url: str) -> list[str]:
    db = Database(make_engine(url))
    try:
        with db.session() as s:
            return list(s.scalars(select(ConversationMessage.content).order_by(ConversationMessage.id)))
    finally:
        db.dispose()


def _spool_lines(app_env: dict[str, str]) -> list[str]:
    spool = Path(app_env["SYNTHBOT_DATA_DIR"]) / "spool" / "pending.jsonl"
    return spool.read_text(encoding="utf-8").splitlines() if spool.exists() else []


def _show_errors_while_down(capsys: pytest.CaptureFixture[str], *, turn: bool) -> None:
    """What a person sees during the outage: a command's error line, then (a window) two banners
    around a turn that was spooled too (``turn``: a server outage; a broken SQLite path refuses turns)."""
    assert main(["history", "show", "987654"]) != 0
    assert capsys.readouterr().err.startswith("error: ")
    ctx = AppContext()
    error_reports.bind(ctx)
    try:
        error_reports.shown("gui.banner", f"the key {SECRET} was refused")
        assert error_reports.flush(20)
        if turn:
            first = MessageRecord(None, "user", "asked while offline")
            assert ctx.writer.write_now(WriteUnit([first], session=SessionSpec(first.uid))) is False
        error_reports.shown("gui.banner", "third error")
        assert error_reports.flush(20)
    finally:
        error_reports.bind(None)
        ctx.close()


def _replay_twice_lands_once(url: str, app_env: dict[str, str], capsys: pytest.CaptureFixture[str],
                             spooled: list[str], messages: list[str]) -> None:
    assert main(["admin", "errors", "--json"]) == 0  # the first command reaching the database replays
    assert len(json.loads(capsys.readouterr().out)) == 3
    rows = _rows(url)
    assert [r[0] for r in rows] == ["cli.history", "gui.banner", "gui.banner"]  # spool order kept
    assert all(r[1] == "alice" for r in rows)
    assert "[REDACTED]" in rows[1][2] and SECRET not in repr(rows) and rows[2][2] == "third error"
    assert [r[3] for r in rows] == sorted(r[3] for r in rows)  # each keeps the time it was shown
    assert _messages(url) == messages
    assert _spool_lines(app_env) == []

    # A replay that committed but died before rewriting the spool runs again: nothing doubles.
    spool = Path(app_env["SYNTHBOT_DATA_DIR"]) / "spool" / "pending.jsonl"
    spool.write_text("\n".join(spooled) + "\n", encoding="utf-8")
    assert main(["admin", "errors", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3
    assert _rows(url) == rows and _messages(url) == messages
    assert _spool_lines(app_env) == []


@pytest.mark.mysql
def test_errors_shown_while_mariadb_is_cut_are_spooled_and_replayed_once(
        app_env: dict[str, str], memory_keyring: object, mysql_url: str, proxy: TcpProxy,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    register_secret(SECRET)
    direct = Database(make_engine(mysql_url))
    migrate.upgrade(direct.engine)
    direct.dispose()
    monkeypatch.setenv("SYNTHBOT_SET__database__connect_timeout", "2")
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", mysql_url.replace(":3306/", f":{proxy.port}/"))
    monkeypatch.setenv("SYNTHBOT_USER", "alice")

    proxy.cut()
    _show_errors_while_down(capsys, turn=True)
    spooled = _spool_lines(app_env)
    assert len(spooled) == 4 and sum('"errors"' in line for line in spooled) == 3
    assert _rows(mysql_url) == []

    proxy.restore()
    _replay_twice_lands_once(mysql_url, app_env, capsys, spooled, ["asked while offline"])


def test_errors_shown_while_the_sqlite_file_cannot_be_opened_are_spooled_and_replayed_once(
        app_env: dict[str, str], memory_keyring: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    register_secret(SECRET)
    (tmp_path / "not-a-folder").write_text("x", encoding="utf-8")
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", f"sqlite:///{tmp_path / 'not-a-folder' / 'db.sqlite3'}")
    monkeypatch.setenv("SYNTHBOT_USER", "alice")

    _show_errors_while_down(capsys, turn=False)
    spooled = _spool_lines(app_env)
    assert len(spooled) == 3 and sum('"errors"' in line for line in spooled) == 3

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", url)
    _replay_twice_lands_once(url, app_env, capsys, spooled, [])
