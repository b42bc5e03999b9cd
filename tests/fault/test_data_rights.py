"""`data export-all` and `data delete-all --yes` (issue #14), on SQLite and MariaDB.

Two users share one database; alice exports and then erases her data. The export must hold all
of alice's rows (sessions, messages, preferences, memory, usage) and nothing of bob's; the
erasure must remove all of alice's rows, her local copies and this app's keyring entries, leave
bob untouched, refuse without --yes, and both must leave an audit row.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from synthbot_desktop.app import AppContext
from synthbot_desktop.cli.main import main
from synthbot_desktop.keystore import SERVICE
from synthbot_desktop.storage import user_data
from synthbot_desktop.storage.db import make_engine
from synthbot_desktop.storage.models import AuditLog, Base, ConversationMessage, User
from tests.support.fake_http import FakeServer
from tests.support.fake_llm import base_url, install_fake_llm


def _use(monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    monkeypatch.setenv("SYNTHBOT_USER", user)


def _rows_of(url: str, username: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with Session(engine) as s:
            uid = user_data.find_user(s, username)
            return user_data.export_user(s, uid).counts() if uid is not None else {}
    finally:
        engine.dispose()


def test_user_tables_cover_every_table_with_a_user(any_db_url: str) -> None:
    """A table added later with a user_id column must be added to the data-rights list too."""
    with_user = {t.name for t in Base.metadata.sorted_tables if "user_id" in t.c}
    assert with_user == {m.__tablename__ for m in user_data.USER_TABLES}


def test_export_then_delete_all(app_env: dict[str, str], memory_keyring: object, any_db_url: str,
                                tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", any_db_url)
    monkeypatch.setenv("SYNTHBOT_SET__database__auto_upgrade_remote", "true")
    with FakeServer() as server:
        install_fake_llm(server, "ollama", "Noted.")
        monkeypatch.setenv("SYNTHBOT_OLLAMA_BASE_URL", base_url("ollama", server))
        for user in ("bob", "alice"):
            _use(monkeypatch, user)
            assert main(["chat", f"hello from {user}", "--provider", "ollama", "--model", "m", "--json"]) == 0
            sid = json.loads(capsys.readouterr().out)["session_id"]
            assert main(["chat", "again", "--provider", "ollama", "--model", "m", "--session", str(sid)]) == 0
            assert main(["memory", "add", f"{user} likes tea"]) == 0
            capsys.readouterr()
    AppContext().keystore.set("openai", "sk-alice-key-0000000000000000")
    memory_keyring_entries = memory_keyring.get_password(SERVICE, "openai")  # type: ignore[attr-defined]
    assert memory_keyring_entries is not None
    bob_before = _rows_of(any_db_url, "bob")

    out = tmp_path / "alice.json"
    assert main(["data", "export-all", "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o077 == 0  # readable only by its owner
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["user"]["username"] == "alice"
    contents = [m["content"] for m in doc["tables"]["conversation_messages"]]
    assert contents == ["hello from alice", "Noted.", "again", "Noted."]
    assert [f["content"] for f in doc["tables"]["memory_facts"]] == ["alice likes tea"]
    assert len(doc["tables"]["api_usage_logs"]) == 2 and len(doc["tables"]["conversation_sessions"]) == 1
    assert "bob" not in out.read_text(encoding="utf-8")
    assert "sk-alice-key" not in out.read_text(encoding="utf-8")

    capsys.readouterr()
    assert main(["data", "delete-all"]) != 0  # refused without --yes, nothing deleted
    assert "--yes" in capsys.readouterr().err
    assert _rows_of(any_db_url, "alice")["conversation_messages"] == 4

    assert main(["data", "delete-all", "--yes", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["deleted_rows"]["conversation_messages"] == 4 and "openai" in report["keyring_entries"]
    assert memory_keyring.get_password(SERVICE, "openai") is None  # type: ignore[attr-defined]
    assert not list((Path(app_env["SYNTHBOT_DATA_DIR"]) / "conversations").glob("*.json"))

    engine = make_engine(any_db_url)
    try:
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(User).where(User.username == "alice")) == 0
            left = list(s.scalars(select(ConversationMessage.content)))
            assert left == ["hello from bob", "Noted.", "again", "Noted."]
            actions = list(s.scalars(select(AuditLog.action).order_by(AuditLog.id)))
            assert actions[-1] == "data.delete_all"  # alice's own audit rows (the export's) went with her
            # every table's alice rows are gone; bob's are all there
            assert all(inspect(engine).has_table(t.name) for t in Base.metadata.sorted_tables)
    finally:
        engine.dispose()
    assert _rows_of(any_db_url, "bob") == bob_before
