"""Past conversations as plain documents, shared by `history` (CLI) and the history page (GUI).

A file exported from either front end imports in both (``services.history_importers``). An
export carries the session's source, tags and note and each message's id and rating, so
`export --all` then `import` into an empty database gives the same conversations back.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import history_meta as meta
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage, ConversationSession
from synthbot_desktop.storage.sessions import StoredMessage, StoredSession
from synthbot_desktop.storage.types import utcnow

EXPORT_FORMAT = "synthbot-desktop.session"
EXPORT_VERSION = 1


# Documents shared with the GUI ------------------------------------------------------------------
def session_summary(row: ConversationSession | meta.SessionInfo) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id, "title": row.title, "provider": row.provider, "model": row.model,
        "tts_engine": row.tts_engine, "voice_id": row.voice_id, "message_count": row.message_count,
        "created_at": row.created_at, "last_message_at": row.last_message_at,
        "source": row.source, "source_id": row.source_id, "note": row.note,
    }
    if isinstance(row, meta.SessionInfo):
        out["tags"] = list(row.tags)
    return out


def message_dict(m: StoredMessage) -> dict[str, Any]:
    return {
        "uid": m.uid, "role": m.role, "content": m.content, "full_content": m.full_content,
        "interrupted": m.interrupted, "error": m.error, "audio_duration_s": m.audio_duration_s,
        "stt_model": m.stt_model, "stt_language": m.stt_language, "stt_confidence": m.stt_confidence,
        "provider": m.provider, "model": m.model, "tokens_in": m.tokens_in, "tokens_out": m.tokens_out,
        "timings": m.timings, "created_at": m.created_at,
    }


def owned_session(s: Session, session_id: int, user_id: int) -> StoredSession:
    """The session if it exists and belongs to this user, else a UsageError saying what to do."""
    row = repo.get_session(s, session_id, user_id)
    if row is None:
        raise UsageError(f"no conversation with id {session_id}",
                         hint="see `synthbot-desktop history list` for the ids")
    return row


def export_document(s: Session, session_id: int, user_id: int) -> dict[str, Any]:
    """The whole conversation as one JSON-ready document (timestamps as ISO text), with its
    tags, note and the ratings of its messages."""
    owned_session(s, session_id, user_id)
    info = meta.session_info(s, session_id, user_id)
    assert info is not None
    msgs = repo.session_messages(s, session_id)
    ratings = meta.ratings_for(s, [m.id for m in msgs])
    out_msgs = []
    for m in msgs:
        d = {"id": m.id, **message_dict(m), "source_id": m.source_id}
        r = ratings.get(m.id)
        if r is not None:
            d["rating"] = {"rating": r.rating, "comment": r.comment, "updated_at": r.updated_at}
        out_msgs.append(d)
    doc = {
        "format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": utcnow(),
        "session": session_summary(info), "messages": out_msgs,
    }
    return json.loads(json.dumps(doc, default=_iso))


def all_session_ids(s: Session, user_id: int) -> list[int]:
    return list(s.scalars(select(ConversationSession.id).where(ConversationSession.user_id == user_id)
                          .order_by(ConversationSession.id)))


def iter_export_all(db: Any, user_id: int) -> Iterator[dict[str, Any]]:
    """Every conversation's document, oldest first, one short transaction each (a large history
    is never held in memory at once)."""
    with db.session() as s:
        ids = all_session_ids(s, user_id)
    for sid in ids:
        with db.session() as s:
            try:
                yield export_document(s, sid, user_id)
            except UsageError:  # deleted meanwhile
                continue


USAGE_CSV_COLUMNS = ("created_at", "provider", "endpoint", "model", "session_id", "message_id", "tokens_in",
                     "tokens_out", "tokens_estimated", "characters", "audio_seconds", "latency_ms", "ttfb_ms",
                     "status", "error_kind", "cost_usd")


def usage_csv_rows(s: Session, user_id: int) -> Iterator[list[Any]]:
    """The usage log as CSV rows (status: ok | failed | cancelled)."""
    stmt = select(ApiUsageLog).where(ApiUsageLog.user_id == user_id).order_by(ApiUsageLog.id)
    for u in s.scalars(stmt):
        status = "ok" if u.success else ("cancelled" if u.error_kind == "cancelled" else "failed")
        yield [u.created_at.isoformat(), u.provider, u.endpoint, u.model, u.session_id, u.message_id, u.tokens_in,
               u.tokens_out, u.tokens_estimated, u.characters, u.audio_seconds, u.latency_ms, u.ttfb_ms, status,
               u.error_kind, "" if u.cost_usd is None else f"{u.cost_usd:.6f}"]


def usage_csv(s: Session, user_id: int) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(USAGE_CSV_COLUMNS)
    for row in usage_csv_rows(s, user_id):
        w.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def transcript(db: Any, session_id: int) -> list[tuple[str, str, bool]]:
    """(role, content, interrupted) of a past conversation, oldest first, for a front end to show
    when it resumes it (blocking: call it from the pool)."""
    with db.session() as s:
        return [(m.role, _shown(m), bool(m.interrupted)) for m in repo.session_messages(s, session_id)]


def _shown(m: StoredMessage) -> str:
    """A tool row is shown collapsed to one line (name and the start of its result)."""
    if m.role != "tool":
        return m.content
    info = (m.timings or {}).get("tool", {}) if isinstance(m.timings, dict) else {}
    text = " ".join(m.content.split())
    return f"{info.get('name') or m.model or 'tool'}: {text[:120]}{'…' if len(text) > 120 else ''}"


def search(db: Any, user_id: int, query: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """This user's messages matching ``query``, newest first, as plain dicts (the `search_history`
    tool and front ends; blocking). Tool rows are left out: they hold tool output, not the talk."""
    with db.session() as s:
        hits = repo.search_messages(s, user_id, query, limit=limit * 2)
    return [{"session_id": h.session_id, "session_title": h.session_title, "role": h.role, "snippet": h.snippet,
             "when": h.created_at.isoformat(timespec="minutes")} for h in hits if h.role != "tool"][:limit]


def message_id_for(db: Any, uid: str | None) -> int | None:
    """The stored id of a message written by uid (what `history rate` takes); None when there is
    no such message yet (e.g. it waits in the offline spool) or the database cannot be read."""
    if not uid:
        return None
    try:
        with db.session() as s:
            found = s.scalar(select(ConversationMessage.id).where(ConversationMessage.uid == uid))
    except Exception:  # best effort: the JSON report must not fail because of a lookup
        return None
    return int(found) if found is not None else None


def _iso(obj: Any) -> Any:
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(type(obj).__name__)


def to_markdown(doc: dict[str, Any]) -> str:
    """A readable transcript: heading, metadata line, one section per message."""
    sess = doc["session"]
    title = sess.get("title") or f"Conversation {sess.get('id')}"
    lines = [f"# {title}", ""]
    facts = [f"{k}: {sess[k]}" for k in ("source", "provider", "model", "created_at") if sess.get(k)]
    if sess.get("tags"):
        facts.append("tags: " + ", ".join(sess["tags"]))
    if facts:
        lines += ["_" + " · ".join(facts) + "_", ""]
    if sess.get("note"):
        lines += ["> " + sess["note"].replace("\n", "\n> "), ""]
    names = {"user": "You", "assistant": "SynthBot", "system": "System", "tool": "Tool"}
    for m in doc["messages"]:
        stamp = str(m.get("created_at") or "")[:19].replace("T", " ")
        head = f"**{names.get(m['role'], m['role'])}**" + (f" ({stamp})" if stamp else "")
        if m.get("interrupted"):
            head += " — interrupted"
        rating = m.get("rating")
        if isinstance(rating, dict) and rating.get("rating") in (1, -1):
            head += " 👍" if rating["rating"] == 1 else " 👎"
            if rating.get("comment"):
                head += f" “{rating['comment']}”"
        lines += [head, "", m["content"].strip() or "_(empty)_", ""]
    return "\n".join(lines).rstrip() + "\n"
