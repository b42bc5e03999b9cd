"""services.history.transcript: what the window shows when it resumes a conversation (no repositories in gui/)."""

from __future__ import annotations

from typing import Any

from synthbot_desktop.services.history import transcript
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.records import MessageRecord


def test_transcript_is_oldest_first_with_interruptions(ctx: Any) -> None:
    with ctx.db.session() as s:
        a = repo.create_session(s, ctx.user_id, provider="openai", model="gpt-4o-mini")
        repo.add_message(s, MessageRecord(a.id, "user", "Tell me about penguins"))
        repo.add_message(s, MessageRecord(a.id, "assistant", "Emperor penguins breed", interrupted=True))
        other = repo.create_session(s, ctx.user_id, provider="openai", model="gpt-4o-mini")
        repo.add_message(s, MessageRecord(other.id, "user", "unrelated"))
        session_id = a.id
    assert transcript(ctx.db, session_id) == [
        ("user", "Tell me about penguins", False),
        ("assistant", "Emperor penguins breed", True),
    ]
