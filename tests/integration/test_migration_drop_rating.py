"""0009 drops the never-used conversation_messages.rating without touching messages or search,
on SQLite (where a table rebuild would lose the FTS5 triggers) and MariaDB."""

from __future__ import annotations

from sqlalchemy import inspect, text

from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.records import MessageRecord


def _columns(engine) -> set[str]:  # type: ignore[no-untyped-def]
    return {c["name"] for c in inspect(engine).get_columns("conversation_messages")}


def test_upgrade_drops_rating_and_keeps_messages_and_search(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    try:
        migrate.upgrade(engine, "0007_history_meta")
        assert "rating" in _columns(engine)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (username, created_at, updated_at) "
                              "VALUES ('old', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
            uid = conn.execute(text("SELECT id FROM users WHERE username = 'old'")).scalar_one()
            conn.execute(text("INSERT INTO conversation_sessions (user_id, message_count, created_at, updated_at) "
                              "VALUES (:u, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"), {"u": uid})
            sid = conn.execute(text("SELECT id FROM conversation_sessions")).scalar_one()
            conn.execute(text("INSERT INTO conversation_messages (session_id, uid, role, content, interrupted, "
                              "created_at) VALUES (:s, 'm-1', 'user', 'walruses before the upgrade', 0, "
                              "'2026-01-01 00:00:01')"), {"s": sid})
        migrate.upgrade(engine)
        assert migrate.current_revision(engine) == "0009_drop_message_rating"
        assert "rating" not in _columns(engine)
        db = Database(engine)
        with db.session() as s:
            repo.add_message(s, MessageRecord(session_id=sid, role="assistant", content="walruses after it"))
        with db.session() as s:
            hits = repo.search_messages(s, uid, "walruses")
        assert sorted(h.snippet for h in hits) == ["walruses after it", "walruses before the upgrade"]
        migrate.downgrade(engine, "0007_history_meta")
        assert "rating" in _columns(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT COUNT(*) FROM conversation_messages")).scalar_one() == 2
    finally:
        engine.dispose()
