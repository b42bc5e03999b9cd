"""Recent conversations for the Talk tab's sidebar: the same list History shows, newest first.

Read through ``storage.history_meta.list_sessions`` — the function behind History and
`history list` — so the sidebar can never disagree with them about which conversations exist or
their order. Blocking: call from the pool (``run_job``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from synthbot_desktop.storage import history_meta as meta

SIDEBAR_LIMIT = 50  # a sidebar is for picking up recent talk; History searches everything
FLUSH_WAIT_S = 2.0  # after a turn: let the recorder write it, so its conversation moves to the top
UNTITLED = "Untitled conversation"


@dataclass(frozen=True)
class RecentConversation:
    id: int
    title: str
    last_activity: dt.datetime | None
    message_count: int


def recent_conversations(ctx: Any, *, limit: int = SIDEBAR_LIMIT, after_turn: bool = False) -> list[RecentConversation]:
    """This user's conversations, newest activity first. ``after_turn``: a turn just ended and its
    messages may still be on their way to the database (background recorder); wait for them briefly."""
    if after_turn:
        ctx.flush(FLUSH_WAIT_S)
    with ctx.db.session() as s:
        rows = meta.list_sessions(s, ctx.user_id, limit=limit)
    return [RecentConversation(r.id, (r.title or "").strip() or UNTITLED, r.last_message_at or r.created_at,
                               r.message_count) for r in rows]


__all__ = ["RecentConversation", "recent_conversations"]
