"""Bulk writes of imports (storage.history_bulk): the values and the search index come out exactly
as row-by-row writes through the ORM would leave them, on SQLite and MariaDB, also when a row fails."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from synthbot_desktop.storage import history_bulk as bulk
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.history_meta import ImportedConversation, ImportedMessage
from synthbot_desktop.storage.models import ConversationMessage
from synthbot_desktop.storage.records import MessageRecord

T0 = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.UTC)


@pytest.fixture
def db(any_db_url: str) -> Iterator[Database]:
    database = Database(make_engine(any_db_url))
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def _convs(n: int, turns: int, word: str) -> list[ImportedConversation]:
    return [ImportedConversation("chatgpt", f"c{i}", None, T0, [
        ImportedMessage(f"c{i}:{j}", "user" if j % 2 == 0 else "assistant", f"{word} {i} {j}",
                        T0 + dt.timedelta(seconds=j)) for j in range(turns)]) for i in range(n)]


def _trigger_sql(db: Database) -> str | None:
    with db.engine.connect() as conn:
        return conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": bulk.FTS_TRIGGER}).scalar()


def _fts_is_whole(db: Database) -> None:
    with db.engine.begin() as conn:  # raises when the index and the table disagree
        conn.execute(text("INSERT INTO conversation_messages_fts(conversation_messages_fts, rank) "
                          "VALUES ('integrity-check', 1)"))


def test_big_batch_is_indexed_and_the_trigger_is_back(db: Database, any_db_url: str) -> None:
    sqlite = any_db_url.startswith("sqlite")
    before = _trigger_sql(db) if sqlite else None
    with db.session() as s:
        uid = repo.get_or_create_user(s, "bulk").id
        results = meta.store_conversations(s, uid, _convs(30, 10, "narwhal"))  # 300 rows: the bulk path
    assert [r.added for r in results] == [10] * 30 and all(r.new_session for r in results)
    with db.session() as s:
        sid = results[0].session_id
        repo.add_message(s, MessageRecord(session_id=sid, role="user", content="narwhal afterwards"))
    with db.session() as s:
        hits = repo.search_messages(s, uid, "narwhal", limit=1000)
    assert len(hits) == 301
    with db.session() as s:
        info = meta.session_info(s, results[1].session_id or 0, uid)
    assert info is not None and info.message_count == 10 and info.title == "narwhal 1 0"
    assert info.last_message_at == T0 + dt.timedelta(seconds=9)
    if sqlite:
        assert _trigger_sql(db) == before
        _fts_is_whole(db)


def test_values_are_what_the_orm_would_store(db: Database) -> None:
    extra = {"timings": {"stt_ms": 12.5, "llm": [1, 2]}, "interrupted": True, "full_content": "the whole reply",
             "tokens_out": 7}
    conv = ImportedConversation("synthbot", "s1", "Kept", T0, [
        ImportedMessage("a", "user", "question", T0),
        ImportedMessage("b", "assistant", "reply", T0 + dt.timedelta(microseconds=1), model="m", provider="p",
                        extra=extra)])
    with db.session() as s:
        uid = repo.get_or_create_user(s, "vals").id
        meta.store_conversations(s, uid, [conv])
    with db.session() as s:
        a, b = s.scalars(select(ConversationMessage).order_by(ConversationMessage.id)).all()
        assert (a.created_at, a.interrupted, a.timings, a.full_content, a.tokens_out) == (T0, False, None, None, None)
        assert (b.created_at, b.interrupted, b.timings, b.full_content, b.tokens_out, b.model, b.provider) == (
            T0 + dt.timedelta(microseconds=1), True, extra["timings"], "the whole reply", 7, "m", "p")


def test_a_failing_row_leaves_the_trigger_and_a_whole_index(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(make_engine(f"sqlite:///{tmp_path / 'b.sqlite3'}"))
    try:
        migrate.upgrade(db.engine)
        before = _trigger_sql(db)
        cols = ("session_id", "uid", "role", "content", "interrupted", "created_at")
        with db.session() as s:
            uid = repo.get_or_create_user(s, "fail").id
            sid = repo.create_session(s, uid).id
            rows = [(sid, f"u{i}", "user", f"orca {i}", False, T0) for i in range(150)]
            rows.append((sid, "u0", "user", "orca duplicate", False, T0))  # unique uid violated
            with pytest.raises(IntegrityError):
                bulk.insert_messages(s, cols, rows)
            # A caller that commits anyway (the rows before the failure stay) keeps a whole index.
        assert _trigger_sql(db) == before
        _fts_is_whole(db)
        with db.session() as s:
            assert len(repo.search_messages(s, uid, "orca", limit=1000)) == 150
    finally:
        db.dispose()


def test_new_uids_are_distinct_version_4_uuids() -> None:
    uids = bulk.new_uids(2000)
    assert len(set(uids)) == 2000
    for u in uids:
        parsed = uuid.UUID(u)
        assert (str(parsed), parsed.version, parsed.variant) == (u, 4, uuid.RFC_4122)
    assert bulk.new_uids(0) == []
