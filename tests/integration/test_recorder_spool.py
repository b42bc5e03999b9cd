"""A database outage never loses a write: it is spooled on disk and replayed once, in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage
from synthbot_desktop.storage.recorder import Recorder, WriteUnit
from synthbot_desktop.storage.records import MessageRecord, UsageRecord
from tests.support.mariadb import TcpProxy


def _counts(db: Database) -> tuple[int, int]:
    with db.session() as s:
        return (s.scalar(select(func.count(ConversationMessage.id))) or 0,
                s.scalar(select(func.count(ApiUsageLog.id))) or 0)


@pytest.mark.mysql
def test_outage_spools_and_replays(mysql_url: str, tmp_path: Path) -> None:
    direct = Database(make_engine(mysql_url))
    migrate.upgrade(direct.engine)
    with direct.session() as s:
        uid = repo.get_or_create_user(s, "spool").id
        sid = repo.create_session(s, uid).id
    proxy = TcpProxy()
    proxied = Database(make_engine(mysql_url.replace(":3306/", f":{proxy.port}/"), connect_timeout=2))
    errors: list[str] = []
    rec = Recorder(proxied, uid, tmp_path / "spool", on_error=errors.append)
    try:
        def turn(n: int) -> WriteUnit:
            user = MessageRecord(sid, "user", f"question {n} 🌍")
            return WriteUnit([user, MessageRecord(sid, "assistant", f"answer {n}")],
                             [UsageRecord("openai", model="m", tokens_in=n, message_uid=user.uid, session_id=sid)])

        rec.submit(turn(1))
        assert rec.flush(20)
        assert _counts(direct) == (2, 1)

        proxy.cut()
        rec.submit(turn(2))
        rec.submit(turn(3))
        assert rec.flush(60)
        assert rec.spooled_count() == 2
        assert errors, "the outage must be reported"
        assert _counts(direct) == (2, 1)

        proxy.restore()
        rec.submit(turn(4))  # the next write replays the spool first, keeping order
        assert rec.flush(60)
        assert rec.spooled_count() == 0
        assert _counts(direct) == (8, 4)
        with direct.session() as s:
            contents = [m.content for m in repo.session_messages(s, sid) if m.role == "user"]
        assert contents == [f"question {n} 🌍" for n in (1, 2, 3, 4)]
        assert rec.replay() == 0  # nothing left, nothing duplicated
        assert _counts(direct) == (8, 4)
    finally:
        rec.close()
        proxy.close()
        proxied.dispose()
        direct.dispose()


def test_unreadable_spool_line_is_dropped_not_fatal(tmp_path: Path) -> None:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    migrate.upgrade(db.engine)
    with db.session() as s:
        uid = repo.get_or_create_user(s, "x").id
        sid = repo.create_session(s, uid).id
    spool = tmp_path / "spool"
    spool.mkdir()
    good = WriteUnit([MessageRecord(sid, "user", "kept")]).to_json()
    import json

    (spool / "pending.jsonl").write_text("{not json\n" + json.dumps(good) + "\n", encoding="utf-8")
    rec = Recorder(db, uid, spool)
    try:
        assert rec.replay() == 2
        assert _counts(db) == (1, 0)
        assert not (spool / "pending.jsonl").exists()
    finally:
        rec.close()
        db.dispose()


def _sqlite_with_session(tmp_path: Path) -> tuple[Database, int, int]:
    db = Database(make_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    migrate.upgrade(db.engine)
    with db.session() as s:
        uid = repo.get_or_create_user(s, "x").id
        sid = repo.create_session(s, uid).id
    return db, uid, sid


def test_a_refused_unit_is_set_aside_and_does_not_block_later_writes(tmp_path: Path) -> None:
    """Messages of a session deleted mid-turn fail the same way forever: they must not jam the spool."""
    db, uid, sid = _sqlite_with_session(tmp_path)
    with db.session() as s:
        gone = repo.create_session(s, uid).id
    with db.session() as s:
        repo.delete_session(s, gone)
    errors: list[str] = []
    rec = Recorder(db, uid, tmp_path / "spool", on_error=errors.append)
    try:
        rec.submit(WriteUnit([MessageRecord(gone, "assistant", "reply to a deleted session")]))
        rec.submit(WriteUnit([MessageRecord(sid, "user", "a later question")]))
        assert rec.flush(20)
        assert _counts(db) == (1, 0)
        assert rec.spooled_count() == 0
        assert errors and "refused" in errors[0]
        kept = (tmp_path / "spool" / "rejected.jsonl").read_text(encoding="utf-8")
        assert "reply to a deleted session" in kept  # set aside, not lost
    finally:
        rec.close()
        db.dispose()


def test_a_torn_spool_line_is_kept_aside_and_the_next_write_survives(tmp_path: Path) -> None:
    """A crash mid-append leaves a line without newline: keep the fragment, lose nothing after it."""
    spool = tmp_path / "spool"
    spool.mkdir()
    (spool / "pending.jsonl").write_bytes(b'{"messages": [{"session_id": 1, "ro')
    down = Database(make_engine("mysql+pymysql://nobody@127.0.0.1:9/none", connect_timeout=1))
    db, uid, sid = _sqlite_with_session(tmp_path)
    offline = Recorder(down, uid, spool)
    try:
        offline.write_now(WriteUnit([MessageRecord(sid, "user", "spoken while offline")]))
    finally:
        offline.close()
        down.dispose()
    rec = Recorder(db, uid, spool)
    try:
        assert rec.replay() == 1
        assert _counts(db) == (1, 0)
        with db.session() as s:
            assert [m.content for m in repo.session_messages(s, sid)] == ["spoken while offline"]
        assert (spool / "rejected.jsonl").read_bytes().startswith(b'{"messages": [{"session_id": 1, "ro')
    finally:
        rec.close()
        db.dispose()
