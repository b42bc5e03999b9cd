"""Fleet administration: the least-privilege account works for the app and cannot change the
schema; the usage report keeps users apart and matches the rows written, on both engines."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import uuid
from decimal import Decimal

import pymysql
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.errors import DatabaseError
from synthbot_desktop.storage import admin, history_meta, migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.records import MessageRecord, UsageRecord
from tests.support import mariadb

DAY = dt.datetime(2025, 4, 3, 12, 0, tzinfo=dt.UTC)


def test_grants_reject_bad_names(capsys: pytest.CaptureFixture[str], app_env: dict[str, str]) -> None:
    assert main(["admin", "grants", "--user", "x'; DROP", "--database", "synthbot"]) == 2
    assert "invalid user name" in capsys.readouterr().err
    assert main(["admin", "grants", "--user", "desk", "--database", "synthbot"]) == 0
    out = capsys.readouterr().out
    assert "GRANT SELECT, INSERT, UPDATE, DELETE ON `synthbot`.`conversation_messages` TO 'desk'@'%';" in out
    assert not any(word in out for word in ("ALTER", "DROP", "GRANT OPTION", "ALL PRIVILEGES", "CREATE,"))


def test_limited_account_can_record_but_not_alter_or_drop(
    mysql_url: str, app_env: dict[str, str], memory_keyring: object, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dbname = mysql_url.rsplit("/", 1)[1].split("?")[0]
    root = Database(make_engine(mysql_url))
    migrate.upgrade(root.engine)  # the admin runs `db upgrade` with the admin account
    root.dispose()
    account, password = f"sb_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    assert main(["admin", "grants", "--user", account, "--host", "127.0.0.1", "--database", dbname]) == 0
    statements = capsys.readouterr().out.replace("<password>", password).splitlines()
    conn = pymysql.connect(host=mariadb.HOST, port=mariadb.PORT, user=mariadb.USER, password="")
    try:
        with conn.cursor() as cur:
            for st in statements:
                cur.execute(st)
        limited_url = f"mysql+pymysql://{account}:{password}@127.0.0.1:{mariadb.PORT}/{dbname}?charset=utf8mb4"
        monkeypatch.setenv("SYNTHBOT_DATABASE_URL", limited_url)
        monkeypatch.setenv("SYNTHBOT_USER", "kiosk-1")
        ctx = AppContext()
        with ctx.db.session() as s:  # the schema check reads alembic_version through the limited account
            conv = repo.create_session(s, ctx.user_id, title="hello")
            s.flush()
            repo.add_message(s, MessageRecord(conv.id, "user", "hi there"))
            repo.add_usage(s, UsageRecord("openai", model="gpt-4o-mini", tokens_in=5, created_at=DAY), ctx.user_id)
        with ctx.db.session() as s:
            assert s.execute(text("SELECT username FROM users")).scalar_one() == "kiosk-1"
            assert s.execute(text("SELECT COUNT(*) FROM api_usage_logs")).scalar_one() == 1
            assert s.execute(text("SELECT content FROM conversation_messages")).scalar_one() == "hi there"
        for ddl in ("ALTER TABLE users ADD COLUMN evil INT", "DROP TABLE api_usage_logs",
                    "CREATE TABLE evil (id INT)", "DELETE FROM alembic_version"):
            with pytest.raises((OperationalError, ProgrammingError)) as err, ctx.db.engine.begin() as c:
                c.execute(text(ddl))
            assert "denied" in str(err.value)
        ctx.close()
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{account}'@'127.0.0.1'")
        conn.close()


@pytest.mark.parametrize("any_db_url", ["sqlite", "mysql"], indirect=True)
def test_usage_report_keeps_users_apart(
    any_db_url: str, app_env: dict[str, str], memory_keyring: object, capsys: pytest.CaptureFixture[str],
) -> None:
    db = Database(make_engine(any_db_url))
    migrate.upgrade(db.engine)
    with db.session() as s:
        alice = repo.get_or_create_user(s, "alice").id
        bob = repo.get_or_create_user(s, "bob").id
        repo.add_usage(s, UsageRecord("openai", model="m1", tokens_in=10, tokens_out=2,
                                      cost_usd=Decimal("0.001"), created_at=DAY), alice)
        repo.add_usage(s, UsageRecord("openai", model="m1", tokens_in=7, success=False,
                                      created_at=DAY.replace(month=5)), alice)
        repo.add_usage(s, UsageRecord("elevenlabs", model="v2", characters=99, created_at=DAY), bob)
        for uid in (alice, bob):
            repo.create_session(s, uid, title=f"private of {uid}")
    with db.session() as s:  # per-user scoping: each user lists only their own conversations
        assert [c.title for c in history_meta.list_sessions(s, alice)] == [f"private of {alice}"]
        assert [c.title for c in history_meta.list_sessions(s, bob)] == [f"private of {bob}"]
        rows = {r.key: r for r in admin.usage_report(s, ["user", "provider", "month"])}
        since = admin.usage_report(s, ["user"], since=DAY.replace(month=5))
    db.dispose()
    assert set(rows) == {("alice", "openai", "2025-04"), ("alice", "openai", "2025-05"),
                         ("bob", "elevenlabs", "2025-04")}
    april = rows[("alice", "openai", "2025-04")]
    assert (april.calls, april.tokens_in, april.tokens_out, april.cost_usd) == (1, 10, 2, Decimal("0.001"))
    assert rows[("alice", "openai", "2025-05")].failures == 1
    assert rows[("bob", "elevenlabs", "2025-04")].characters == 99
    assert rows[("bob", "elevenlabs", "2025-04")].cost_usd is None  # unknown, not free
    assert [(r.key, r.calls) for r in since] == [(("alice",), 1)]

    assert main(["admin", "usage", "--url", any_db_url, "--by", "user", "--csv"]) == 0
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["user"], r["calls"], r["tokens_in"]) for r in parsed] == [("alice", "2", "17"), ("bob", "1", "0")]
    assert main(["admin", "usage", "--url", any_db_url, "--by", "provider,model", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {(d["provider"], d["model"], d["calls"]) for d in doc} == {("openai", "m1", 2), ("elevenlabs", "v2", 1)}
    assert main(["admin", "usage", "--url", any_db_url, "--by", "nope"]) == 2


def test_client_on_older_schema_is_refused_with_the_command(
    mysql_url: str, app_env: dict[str, str], memory_keyring: object, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", mysql_url)  # a shared server whose schema is not upgraded
    ctx = AppContext()
    with pytest.raises(DatabaseError) as err:
        _ = ctx.db
    assert "synthbot-desktop db upgrade" in str(err.value) + str(getattr(err.value, "hint", ""))
    ctx.close()


@pytest.mark.parametrize("any_db_url", ["sqlite", "mysql"], indirect=True)
def test_usage_view_equals_report_with_percentiles(any_db_url: str) -> None:
    db = Database(make_engine(any_db_url))
    migrate.upgrade(db.engine)
    latencies = [float(x) for x in range(1, 21)]  # 1..20 ms: nearest-rank p50 = 10, p95 = 19
    with db.session() as s:
        uid = repo.get_or_create_user(s, "carol").id
        for i, lat in enumerate(latencies):
            repo.add_usage(s, UsageRecord("openai", model="m1", tokens_in=i, latency_ms=lat, created_at=DAY), uid)
        repo.add_usage(s, UsageRecord("openai", model="m1", success=False, created_at=DAY), uid)
        repo.add_usage(s, UsageRecord("elevenlabs", model="v2", characters=50, latency_ms=7.0, created_at=DAY), uid)
    with db.session() as s:
        view = {(r.service, r.model): r for r in s.execute(text("SELECT * FROM v_api_usage_stats"))}
        report = {r.key: r for r in admin.usage_report(s, ["provider", "model"])}
        active = s.execute(text("SELECT username, sessions FROM v_active_user_sessions")).all()
        s.execute(text("SELECT * FROM v_user_preferences")).all()
    db.dispose()
    assert set(view) == set(report)
    for key, row in view.items():
        rep = report[key]
        assert (row.calls, row.failures, row.tokens_in, row.characters) == (
            rep.calls, rep.failures, rep.tokens_in, rep.characters)
    assert (view[("openai", "m1")].p50_latency_ms, view[("openai", "m1")].p95_latency_ms) == (10.0, 19.0)
    assert view[("elevenlabs", "v2")].p95_latency_ms == 7.0
    assert [tuple(a) for a in active] == [("carol", 0)]
