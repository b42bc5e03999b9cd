"""Repository round trips on SQLite and MariaDB, including utf8mb4 text, search and money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from synthbot_desktop.storage import history_meta, migrate, usage_stats
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.records import MessageRecord, UsageRecord

EMOJI_CJK = "Hello 👋🏽 — 你好，世界 — こんにちは — Ünïcödé ✓ 𝄞"


@pytest.fixture
def db(any_db_url: str):  # type: ignore[no-untyped-def]
    database = Database(make_engine(any_db_url))
    migrate.upgrade(database.engine)
    yield database
    database.dispose()


def test_sessions_messages_round_trip(db: Database) -> None:
    with db.session() as s:
        user = repo.get_or_create_user(s, "ada")
        assert repo.get_or_create_user(s, "ada").id == user.id
        sess = repo.create_session(s, user.id, provider="openai", model="gpt-4o-mini")
        repo.add_message(s, MessageRecord(sess.id, "user", EMOJI_CJK, audio_duration_s=1.5, stt_model="tiny.en",
                                          stt_language="en", stt_confidence=-0.2,
                                          timings={"speech_end": 0.0, "transcript_ready": 0.61}))
        reply = MessageRecord(sess.id, "assistant", "Spoken part.", full_content="Spoken part. Unspoken rest.",
                              interrupted=True, tokens_in=12, tokens_out=7)
        repo.add_message(s, reply)
        repo.add_message(s, reply)  # replayed from the spool: must not duplicate
        user_id, session_id = user.id, sess.id
    with db.session() as s:
        sess = repo.get_session(s, session_id, user_id)
        assert isinstance(sess, repo.StoredSession) and sess.message_count == 2  # a value, not an ORM row
        assert sess.title and sess.title.startswith("Hello 👋🏽")
        msgs = repo.session_messages(s, session_id)
        assert all(isinstance(m, repo.StoredMessage) for m in msgs)  # plain values, not ORM rows (#13)
        assert [m.role for m in msgs] == ["user", "assistant"]
        assert msgs[0].content == EMOJI_CJK
        assert msgs[0].timings == {"speech_end": 0.0, "transcript_ready": 0.61}
        assert msgs[1].interrupted and msgs[1].full_content.endswith("Unspoken rest.")  # type: ignore[union-attr]
        assert msgs[0].created_at.tzinfo is dt.UTC
        assert [m.role for m in repo.session_messages(s, session_id, last=1)] == ["assistant"]
        assert [x.id for x in history_meta.list_sessions(s, user_id)] == [session_id]
        repo.rename_session(s, session_id, "Renamed ✓")
    with db.session() as s:
        assert repo.get_session(s, session_id).title == "Renamed ✓"  # type: ignore[union-attr]
        assert repo.delete_session(s, session_id)
    with db.session() as s:
        assert repo.get_session(s, session_id) is None
        assert repo.session_messages(s, session_id) == []


def test_full_text_search(db: Database) -> None:
    with db.session() as s:
        uid = repo.get_or_create_user(s, "bob").id
        other = repo.get_or_create_user(s, "eve").id
        a = repo.create_session(s, uid)
        b = repo.create_session(s, other)
        repo.add_message(s, MessageRecord(a.id, "user", "What is the weather forecast for Lisbon tomorrow?"))
        repo.add_message(s, MessageRecord(a.id, "assistant", "Sunny in Lisbon, around 24 degrees."))
        repo.add_message(s, MessageRecord(a.id, "user", "東京の天気は？"))
        repo.add_message(s, MessageRecord(b.id, "user", "Lisbon is lovely"))  # another user's: never found
    with db.session() as s:
        hits = repo.search_messages(s, uid, "lisbon")
        assert {h.role for h in hits} == {"user", "assistant"} and len(hits) == 2
        assert all("Lisbon" in h.snippet for h in hits)
        assert [h.role for h in repo.search_messages(s, uid, "forecast Lisbon")] == ["user"]
        assert len(repo.search_messages(s, uid, "東京")) == 1
        assert repo.search_messages(s, uid, "zebra") == []
        # few wanted: the newest window answers (MySQL); same answer as the index would give
        newest = repo.search_messages(s, uid, "lisbon", limit=1)
        assert [h.role for h in newest] == ["assistant"]
        assert repo.search_messages(s, uid, "isbon", limit=1) == []  # word prefixes, not substrings
        assert repo.search_messages(s, uid, "   ") == []


def test_usage_summary_money_and_unknown_cost(db: Database) -> None:
    day = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
    with db.session() as s:
        uid = repo.get_or_create_user(s, "cy").id
        rows = [
            UsageRecord("openai", model="gpt-4o-mini", tokens_in=100, tokens_out=50,
                        cost_usd=Decimal("0.000045"), created_at=day),
            UsageRecord("openai", model="gpt-4o-mini", tokens_in=10, tokens_out=5,
                        cost_usd=Decimal("0.000004"), created_at=day + dt.timedelta(hours=1)),
            UsageRecord("openai", model="gpt-4o-mini", success=False, error_kind="rate_limit", status_code=429,
                        cost_usd=None, created_at=day + dt.timedelta(hours=2),
                        error_message="429 for key sk-proj-abcdefghijklmnopqrst"),
            UsageRecord("elevenlabs", model="eleven_flash_v2_5", characters=120, cost_usd=None,
                        created_at=day + dt.timedelta(days=1)),
        ]
        for r in rows:
            repo.add_usage(s, r, uid)
        repo.add_usage(s, rows[0], uid)  # idempotent
    with db.session() as s:
        summary = usage_stats.usage_summary(s, uid)
        by = {(r.day, r.provider): r for r in summary}
        o = by[(dt.date(2026, 11, 20), "openai")]
        assert (o.calls, o.failures, o.tokens_in, o.tokens_out) == (3, 1, 110, 55)
        assert o.cost_usd == Decimal("0.000049") and o.cost_unknown_calls == 1
        e = by[(dt.date(2026, 11, 21), "elevenlabs")]
        assert e.characters == 120 and e.cost_usd is None and e.cost_unknown_calls == 1
        since = usage_stats.usage_summary(s, uid, since=day + dt.timedelta(hours=12), by_day=False)
        assert [r.provider for r in since] == ["elevenlabs"]
        from sqlalchemy import select

        from synthbot_desktop.storage.models import ApiUsageLog

        stored = s.scalars(select(ApiUsageLog.error_message).where(ApiUsageLog.error_message.is_not(None))).all()
        assert stored and all("abcdefghijklmnopqrst" not in m for m in stored)
