"""Rating replies from the conversation view, and a past conversation as the view shows it.

The same rating storage as History and `history rate` (``storage.history_meta.rate``, #17). A reply
rated seconds after it was spoken may still be on its way to the database (the recorder writes
in the background): the recorder is flushed first, and a reply still not stored (offline, in the
spool) gets one clear sentence instead of a silent loss. Blocking: call from the pool (``run_job``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.models import ConversationMessage

FLUSH_WAIT_S = 5.0  # how long a rating waits for its reply to be written


@dataclass(frozen=True)
class ShownMessage:
    """One stored message as the conversation view draws it."""

    id: int
    uid: str | None
    role: str  # user / assistant / tool
    content: str
    interrupted: bool
    created_at: dt.datetime | None
    timings: dict[str, Any] = field(default_factory=dict)
    rating: int = 0
    tool: dict[str, Any] = field(default_factory=dict)  # name, arguments, is_error (tool rows)


def rate_reply(ctx: Any, rating: int, *, message_uid: str | None = None, message_id: int | None = None,
               comment: str | None = None) -> int:
    """Store a thumbs up (+1) / down (-1) on one of this user's replies; returns its message id."""
    if rating not in (1, -1):
        raise ValueError("a rating is up (+1) or down (-1)")
    if message_id is None:
        if not message_uid:
            raise UsageError("this reply was not stored, so it cannot be rated")
        message_id = _stored_id(ctx, message_uid)
    with ctx.db.session() as s:
        owned = meta.owned_message(s, message_id, ctx.user_id)
        if owned is None or owned[1] != "assistant":
            raise UsageError("that reply is no longer in your history")
        meta.rate(s, ctx.user_id, message_id, rating, comment)
    return message_id


def _stored_id(ctx: Any, uid: str) -> int:
    for attempt in range(2):
        with ctx.db.session() as s:
            found = s.scalar(select(ConversationMessage.id).where(ConversationMessage.uid == uid))
        if found is not None:
            return int(found)
        if attempt == 0:
            ctx.flush(FLUSH_WAIT_S)  # written by the background recorder: wait for it once
    raise UsageError("this reply is not saved yet (it waits for the database)",
                     hint="rate it again once the database is reachable")


def shown_messages(db: Any, session_id: int) -> list[ShownMessage]:
    """A past conversation's messages, oldest first, with what the view shows besides the text:
    time, timings (for the latency), rating and tool details."""
    with db.session() as s:
        msgs = repo.session_messages(s, session_id)
        ratings = meta.ratings_for(s, [m.id for m in msgs if m.role == "assistant"])
        out = []
        for m in msgs:
            timings = m.timings if isinstance(m.timings, dict) else {}
            rated = ratings.get(m.id)
            tool = timings.get("tool", {}) if m.role == "tool" else {}
            # A complete reply is shown as the model wrote it (Markdown); ``content`` is its spoken form.
            text = m.full_content if m.role == "assistant" and m.full_content and not m.interrupted else m.content
            out.append(ShownMessage(m.id, m.uid, m.role, text, bool(m.interrupted), m.created_at,
                                    timings, rated.rating if rated else 0,
                                    dict(tool) if isinstance(tool, dict) else {}))
        return out


__all__ = ["ShownMessage", "rate_reply", "shown_messages"]
