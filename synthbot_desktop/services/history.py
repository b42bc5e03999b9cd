"""Past conversations as plain documents, shared by `history` (CLI) and the history page (GUI).

A file exported from either front end imports in both (the import lives with the CLI command,
``cli/commands/history.py:import_document``, next to its validation).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from synthbot_desktop.errors import UsageError
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.models import ConversationMessage, ConversationSession
from synthbot_desktop.storage.types import utcnow

EXPORT_FORMAT = "synthbot-desktop.session"
EXPORT_VERSION = 1


# Documents shared with the GUI ------------------------------------------------------------------
def session_summary(row: ConversationSession) -> dict[str, Any]:
    return {
        "id": row.id, "title": row.title, "provider": row.provider, "model": row.model,
        "tts_engine": row.tts_engine, "voice_id": row.voice_id, "message_count": row.message_count,
        "created_at": row.created_at, "last_message_at": row.last_message_at,
    }


def message_dict(m: ConversationMessage) -> dict[str, Any]:
    return {
        "uid": m.uid, "role": m.role, "content": m.content, "full_content": m.full_content,
        "interrupted": m.interrupted, "error": m.error, "audio_duration_s": m.audio_duration_s,
        "stt_model": m.stt_model, "stt_language": m.stt_language, "stt_confidence": m.stt_confidence,
        "provider": m.provider, "model": m.model, "tokens_in": m.tokens_in, "tokens_out": m.tokens_out,
        "timings": m.timings, "created_at": m.created_at,
    }


def owned_session(s: Session, session_id: int, user_id: int) -> ConversationSession:
    """The session if it exists and belongs to this user, else a UsageError saying what to do."""
    row = repo.get_session(s, session_id, user_id)
    if row is None:
        raise UsageError(f"no conversation with id {session_id}",
                         hint="see `synthbot-desktop history list` for the ids")
    return row


def export_document(s: Session, session_id: int, user_id: int) -> dict[str, Any]:
    """The whole conversation as one JSON-ready document (timestamps as ISO text)."""
    row = owned_session(s, session_id, user_id)
    doc = {
        "format": EXPORT_FORMAT, "version": EXPORT_VERSION, "exported_at": utcnow(),
        "session": session_summary(row),
        "messages": [message_dict(m) for m in repo.session_messages(s, session_id)],
    }
    return json.loads(json.dumps(doc, default=_iso))


def transcript(db: Any, session_id: int) -> list[tuple[str, str, bool]]:
    """(role, content, interrupted) of a past conversation, oldest first, for a front end to show
    when it resumes it (blocking: call it from the pool)."""
    with db.session() as s:
        return [(m.role, _shown(m), bool(m.interrupted)) for m in repo.session_messages(s, session_id)]


def _shown(m: ConversationMessage) -> str:
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


def _iso(obj: Any) -> Any:
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    raise TypeError(type(obj).__name__)


def to_markdown(doc: dict[str, Any]) -> str:
    """A readable transcript: heading, metadata line, one section per message."""
    sess = doc["session"]
    title = sess.get("title") or f"Conversation {sess.get('id')}"
    lines = [f"# {title}", ""]
    meta = [f"{k}: {sess[k]}" for k in ("provider", "model", "created_at") if sess.get(k)]
    if meta:
        lines += ["_" + " · ".join(meta) + "_", ""]
    names = {"user": "You", "assistant": "SynthBot", "system": "System", "tool": "Tool"}
    for m in doc["messages"]:
        stamp = str(m.get("created_at") or "")[:19].replace("T", " ")
        head = f"**{names.get(m['role'], m['role'])}**" + (f" ({stamp})" if stamp else "")
        if m.get("interrupted"):
            head += " — interrupted"
        lines += [head, "", m["content"].strip() or "_(empty)_", ""]
    return "\n".join(lines).rstrip() + "\n"
