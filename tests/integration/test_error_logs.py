"""error_logs receives every error shown to a person (issue #18), redacted and filed under them, on
SQLite and a fresh MariaDB database: the CLI's top-level handler, lines a command prints and goes
on, and `admin errors` / `doctor` read them back."""

from __future__ import annotations

import datetime as dt
import json
import socket
from typing import Any

import pytest
from sqlalchemy import select

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.diagnostics import check_errors
from synthbot_desktop.redaction import register_secret
from synthbot_desktop.services import error_reports
from synthbot_desktop.storage import error_log, migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import ErrorLog, User

SECRET = "sk-proj-" + "Z9" * 12


@pytest.fixture
def seat(any_db_url: str, app_env: dict[str, str], memory_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    db = Database(make_engine(any_db_url))
    migrate.upgrade(db.engine)
    db.dispose()
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    monkeypatch.setenv("SYNTHBOT_USER", "alice")
    return any_db_url


def _rows(url: str) -> list[tuple[str, str | None, str | None, str]]:
    db = Database(make_engine(url))
    try:
        with db.session() as s:
            return [tuple(r) for r in s.execute(  # type: ignore[misc]
                select(ErrorLog.source, ErrorLog.kind, User.username, ErrorLog.message)
                .outerjoin(User, User.id == ErrorLog.user_id).order_by(ErrorLog.id))]
    finally:
        db.dispose()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_top_level_and_printed_errors_are_filed_redacted(seat: str, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    register_secret(SECRET)
    assert main(["history", "show", "987654"]) != 0  # an error raised to the top-level handler
    top_err = capsys.readouterr().err
    # `models` prints one line per provider it cannot reach and goes on with the others
    monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", f"http://127.0.0.1:{_closed_port()}")
    main(["models"])
    printed = [line for line in capsys.readouterr().err.splitlines() if "unavailable" in line]
    assert len(printed) == 4
    ctx = AppContext()
    error_reports.bind(ctx)
    error_reports.shown("gui.banner", f"the key {SECRET} was refused")
    assert error_reports.flush(10)
    error_reports.bind(None)
    ctx.close()

    rows = _rows(seat)
    assert rows[0][:3] == ("cli.history", "UsageError", "alice") and rows[0][3] in top_err
    models = [r for r in rows if r[0] == "cli.models"]
    assert len(models) == 4 and all(r[2] == "alice" for r in models)
    assert {r[3].split(":", 1)[0] for r in models} == {"openai", "anthropic", "gemini", "ollama"}
    assert rows[-1][0] == "gui.banner" and SECRET not in repr(rows) and "[REDACTED]" in rows[-1][3]


def test_admin_errors_filters_and_doctor_counts_the_last_day(seat: str, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    now = dt.datetime.now(dt.UTC)
    db = Database(make_engine(seat))
    with db.session() as s:
        alice = repo.get_or_create_user(s, "alice").id
        bob = repo.get_or_create_user(s, "bob").id
        error_log.add(s, "cli.chat", "old one", kind="timeout", user_id=alice, created_at=now - dt.timedelta(days=3))
        error_log.add(s, "cli.chat", "alice today", kind="quota", user_id=alice, created_at=now - dt.timedelta(hours=1))
        error_log.add(s, "gui.banner", "bob today", user_id=bob, created_at=now - dt.timedelta(hours=2))
    db.dispose()

    assert main(["admin", "errors", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [d["message"] for d in doc] == ["bob today", "alice today", "old one"]  # newest row first
    assert main(["admin", "errors", "--user", "alice", "--since", (now - dt.timedelta(days=1)).date().isoformat(),
                 "--json"]) == 0
    assert [d["message"] for d in json.loads(capsys.readouterr().out)] == ["alice today"]
    assert main(["admin", "errors", "--user", "bob"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and "bob" in out[0] and "gui.banner" in out[0] and "bob today" in out[0]

    ctx = AppContext()
    check = check_errors(ctx)
    assert check.data["errors_24h"] == 2 and check.status == "warn" and "2 error(s)" in check.detail
    ctx.close()
    assert main(["doctor", "--json"]) in (0, 1)
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["errors"]["data"]["errors_24h"] == 2
