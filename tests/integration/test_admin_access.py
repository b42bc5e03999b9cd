"""On a fresh MariaDB database (issue #18): the desktop clients' limited account reads the feature
flags and files its errors, but cannot change a flag and is not shown the admin page; the admin's
account is."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pymysql
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError, ProgrammingError

from synthbot_desktop.app import AppContext
from synthbot_desktop.services import admin as admin_service
from synthbot_desktop.services import error_reports, features
from synthbot_desktop.storage import admin, migrate
from synthbot_desktop.storage import feature_flags as store
from synthbot_desktop.storage.db import Database, make_engine
from tests.support import mariadb


@pytest.fixture
def limited_url(mysql_url: str) -> Iterator[str]:
    dbname = mysql_url.rsplit("/", 1)[1].split("?")[0]
    root = Database(make_engine(mysql_url))
    migrate.upgrade(root.engine)
    with root.session() as s:
        store.set_flag(s, "provider.openai", False)
        store.set_user_access(s, "tool.open", ["kiosk-2"], False)
        store.set_user_access(s, "tool.open", ["kiosk-9"], True)  # another seat's: not shown to kiosk-2
    root.dispose()
    account, password = f"sb_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    conn = pymysql.connect(host=mariadb.HOST, port=mariadb.PORT, user=mariadb.USER, password="")
    try:
        with conn.cursor() as cur:
            for st in admin.grant_statements(account, dbname, "127.0.0.1"):
                cur.execute(st.replace("<password>", password))
        yield f"mysql+pymysql://{account}:{password}@127.0.0.1:{mariadb.PORT}/{dbname}?charset=utf8mb4"
    finally:
        with conn.cursor() as cur:
            cur.execute(f"DROP USER IF EXISTS '{account}'@'127.0.0.1'")
        conn.close()


def test_limited_account_reads_flags_files_errors_but_cannot_change_flags(
        limited_url: str, mysql_url: str, app_env: dict[str, str], memory_keyring: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", limited_url)
    monkeypatch.setenv("SYNTHBOT_USER", "kiosk-2")
    ctx = AppContext()
    assert not features.enabled(ctx, "provider.openai") and not features.enabled(ctx, "tool.open")
    assert features.enabled(ctx, "provider.ollama")
    assert admin_service.can_read_all_users(ctx) is False  # no admin page for the clients' account
    own = {f.name: f for f in admin_service.own_flags(ctx)}  # ...but the read-only Feature flags page
    assert own["tool.open"].users == {"kiosk-2": False} and own["provider.openai"].everyone is False
    assert error_reports.report(ctx, "cli.chat", "the provider said no", kind="quota")
    for stmt in ("UPDATE feature_flags SET enabled = 1", "DELETE FROM user_feature_access",
                 "INSERT INTO feature_flags (name, enabled, updated_at) VALUES ('x', 1, NOW())"):
        with pytest.raises((OperationalError, ProgrammingError)) as err, ctx.db.engine.begin() as c:
            c.execute(text(stmt))
        assert "denied" in str(err.value)
    ctx.close()

    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", mysql_url)  # the admin's account
    monkeypatch.setenv("SYNTHBOT_USER", "admin")
    ctx = AppContext()
    assert admin_service.can_read_all_users(ctx) is True
    assert [(e.username, e.source, e.kind) for e in admin_service.errors(ctx)] == [("kiosk-2", "cli.chat", "quota")]
    ctx.close()
