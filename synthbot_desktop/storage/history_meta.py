"""Conversation metadata (issue #17): imported conversations, tags, notes, ratings, filters, retention.

Everything returns plain dataclasses, never ORM rows, so front ends cannot lazy-load outside a
transaction. Imports write each batch's new sessions and new messages with one executemany each
(``storage.history_bulk``), not one ORM flush per row: that is what makes 10k+ messages/s into
SQLite possible. Idempotency comes from the unique indexes (user, source, source_id) on sessions
and (session, source_id) on messages.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, exists, func, select, update
from sqlalchemy.orm import Session

from synthbot_desktop.storage import history_bulk as bulk
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.models import (
    ConversationMessage,
    ConversationSession,
    MessageRating,
    SessionTag,
)
from synthbot_desktop.storage.sessions import StoredSession
from synthbot_desktop.storage.types import utcnow

MAX_TAG = 64
KEEP_TAG = "keep"  # a conversation tagged `keep` is never deleted by retention
_TAG_OK = re.compile(r"^[^\s,]{1,64}$")


# Records ----------------------------------------------------------------------------------------
@dataclass
class ImportedMessage:
    """One message read from another app's export (or ours)."""

    source_id: str
    role: str  # user | assistant | system
    content: str
    created_at: dt.datetime | None = None
    model: str | None = None
    provider: str | None = None
    uid: str | None = None  # kept from our own exports
    extra: dict[str, Any] = field(default_factory=dict)  # other columns of our own format
    rating: int | None = None
    rating_comment: str | None = None


@dataclass
class ImportedConversation:
    source: str  # chatgpt | claude | gemini | synthbot
    source_id: str
    title: str | None
    created_at: dt.datetime | None
    messages: list[ImportedMessage]
    provider: str | None = None
    model: str | None = None
    tags: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass(frozen=True)
class StoredConversation:
    session_id: int | None  # None: nothing to store (empty, or every message already here)
    added: int
    already_there: int
    new_session: bool


@dataclass(frozen=True)
class SessionInfo:
    id: int
    title: str | None
    provider: str | None
    model: str | None
    tts_engine: str | None
    voice_id: str | None
    message_count: int
    created_at: dt.datetime
    last_message_at: dt.datetime | None
    source: str | None
    source_id: str | None
    note: str | None
    tags: tuple[str, ...]


@dataclass(frozen=True)
class Rating:
    message_id: int
    rating: int  # +1 up, -1 down
    comment: str | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class ListFilter:
    """What `history list/search` and the History page narrow by (all optional)."""

    tag: str | None = None
    source: str | None = None
    provider: str | None = None
    since: dt.datetime | None = None  # inclusive, on the last activity
    until: dt.datetime | None = None  # exclusive

    def active(self) -> bool:
        return any(v is not None for v in (self.tag, self.source, self.provider, self.since, self.until))


# Imports ----------------------------------------------------------------------------------------
def _aware(stamp: dt.datetime | None) -> dt.datetime | None:
    if stamp is None:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=dt.UTC)


def store_conversation(s: Session, user_id: int, conv: ImportedConversation) -> StoredConversation:
    """Write one imported conversation (see :func:`store_conversations`)."""
    return store_conversations(s, user_id, [conv])[0]


def _merge_same_key(convs: Sequence[ImportedConversation]) -> list[ImportedConversation]:
    """Pieces of one conversation in one batch (Takeout days) become one, in order."""
    by_key: dict[tuple[str, str], ImportedConversation] = {}
    out: list[ImportedConversation] = []
    for c in convs:
        key = (c.source, c.source_id[:100])
        if key in by_key:
            by_key[key].messages.extend(c.messages)
            continue
        c = ImportedConversation(c.source, c.source_id, c.title, c.created_at, list(c.messages), c.provider,
                                 c.model, list(c.tags), c.note)
        by_key[key] = c
        out.append(c)
    return out


def store_conversations(s: Session, user_id: int, batch: Sequence[ImportedConversation]) -> list[StoredConversation]:
    """Write imported conversations, adding only messages not already stored; one result each
    (conversations sharing a source id within the batch are merged and reported once).

    Re-importing the same export therefore adds nothing; an export taken later (the conversation
    grew) adds just the new messages to the same session. What is already stored is looked up with
    a few queries per batch, and the new sessions and new messages go in one executemany each
    (``storage.history_bulk``): per-statement and per-row overhead, not the database, was what
    limited throughput.
    """
    convs = _merge_same_key(batch)
    sessions = cast(Table, ConversationSession.__table__)
    messages_t = cast(Table, ConversationMessage.__table__)
    existing: dict[tuple[str, str], int] = {}
    keys = [c.source_id[:100] for c in convs]
    for i in range(0, len(keys), 500):
        stmt = select(sessions.c.id, sessions.c.source, sessions.c.source_id).where(
            sessions.c.user_id == user_id, sessions.c.source_id.in_(keys[i:i + 500]))
        for sid, source, source_id in s.execute(stmt):
            existing[(str(source), str(source_id))] = int(sid)
    uids = [m.uid for c in convs for m in c.messages if m.uid]
    taken: set[str] = set()
    for i in range(0, len(uids), 500):  # our own exports carry uids: such a message is already here
        taken.update(s.scalars(select(messages_t.c.uid).where(messages_t.c.uid.in_(uids[i:i + 500]))))
    known_by_session: dict[int, set[str]] = {}
    ids_here = sorted(set(existing.values()))
    for i in range(0, len(ids_here), 500):
        for sid, source_id in s.execute(select(messages_t.c.session_id, messages_t.c.source_id).where(
                messages_t.c.session_id.in_(ids_here[i:i + 500]))):
            known_by_session.setdefault(int(sid), set()).add(str(source_id))
    now = utcnow()
    # Per conversation with something new: (key, existing id, fresh messages with their stamps).
    todo: list[tuple[tuple[str, str], int | None, list[tuple[ImportedMessage, dt.datetime]]]] = []
    results: list[StoredConversation | None] = []
    new_sessions: list[dict[str, Any]] = []
    for conv in convs:
        conv_key = (conv.source, conv.source_id[:100])
        existing_id = existing.get(conv_key)
        known = known_by_session.get(existing_id, set()) if existing_id is not None else set()
        fresh: list[ImportedMessage] = []
        for m in conv.messages:
            key = m.source_id[:100]
            if key in known or (m.uid and m.uid in taken):
                continue
            known.add(key)
            fresh.append(m)
        already = len(conv.messages) - len(fresh)
        if not fresh:
            results.append(StoredConversation(existing_id, 0, already, False))
            continue
        started = _aware(conv.created_at) or min(
            (t for t in (_aware(m.created_at) for m in fresh) if t is not None), default=None) or now
        stamped: list[tuple[ImportedMessage, dt.datetime]] = []
        last = started
        for m in fresh:
            stamp = _aware(m.created_at) or last  # a message without a time sorts after its predecessor
            last = max(last, stamp)
            stamped.append((m, stamp))
        if existing_id is None:
            title = conv.title or _title_from(fresh)
            new_sessions.append({
                "user_id": user_id, "title": title[:300] if title else None, "provider": conv.provider,
                "model": conv.model, "source": conv.source, "source_id": conv.source_id[:100], "note": conv.note,
                "message_count": len(fresh), "created_at": started, "updated_at": now, "last_message_at": last,
                "persona_id": None, "tts_engine": None, "voice_id": None})
        else:
            row = s.execute(select(sessions.c.message_count, sessions.c.last_message_at, sessions.c.title)
                            .where(sessions.c.id == existing_id)).one()
            newest = last if row.last_message_at is None or last > row.last_message_at else row.last_message_at
            s.execute(update(sessions).where(sessions.c.id == existing_id).values(
                message_count=(row.message_count or 0) + len(fresh), last_message_at=newest,
                title=row.title or _title_from(fresh), updated_at=now))
        todo.append((conv_key, existing_id, stamped))
        results.append(None)  # filled in once the session id is known
    existing.update(bulk.insert_sessions(s, user_id, new_sessions))
    columns, rows = _message_rows([(existing[key], stamped) for key, _, stamped in todo])
    bulk.insert_messages(s, columns, rows)
    done = iter(todo)
    out: list[StoredConversation] = []
    followups: list[tuple[int, ImportedConversation, list[ImportedMessage]]] = []
    for conv, result in zip(convs, results, strict=True):
        if result is not None:
            out.append(result)
            continue
        conv_key, existing_id, stamped = next(done)
        session_id = existing[conv_key]
        fresh = [m for m, _ in stamped]
        out.append(StoredConversation(session_id, len(fresh), len(conv.messages) - len(fresh), existing_id is None))
        if conv.tags or any(m.rating in (1, -1) for m in fresh):
            followups.append((session_id, conv, fresh))
    for session_id, conv, fresh in followups:
        if conv.tags:
            add_tags(s, session_id, conv.tags)
        rated = [m for m in fresh if m.rating in (1, -1)]
        if not rated:
            continue
        ids = {str(k): int(v) for k, v in s.execute(select(messages_t.c.source_id, messages_t.c.id).where(
            messages_t.c.session_id == session_id,
            messages_t.c.source_id.in_([m.source_id[:100] for m in rated])))}
        for m in rated:
            if m.source_id[:100] in ids:
                rate(s, user_id, ids[m.source_id[:100]], int(m.rating or 0), m.rating_comment)
    return out


_BASE_COLUMNS = ("session_id", "uid", "role", "content", "interrupted", "provider", "model", "source_id",
                 "created_at")
# Columns only our own exports carry (ImportedMessage.extra); "interrupted" is a base column.
_EXTRA_COLUMNS = ("full_content", "error", "audio_duration_s", "stt_model", "stt_language", "stt_confidence",
                  "tokens_in", "tokens_out", "timings")


def _message_rows(sessions: Sequence[tuple[int, Sequence[tuple[ImportedMessage, dt.datetime]]]]
                  ) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The batch's messages as tuples for one executemany: every row has the same columns (the
    base ones plus each extra column some message of the batch has; absent values are NULL)."""
    extras = tuple(c for c in _EXTRA_COLUMNS
                   if any(c in m.extra for _, stamped in sessions for m, _ in stamped if m.extra))
    rows: list[tuple[Any, ...]] = []
    uids = iter(bulk.new_uids(sum(1 for _, stamped in sessions for m, _ in stamped if not m.uid)))
    for session_id, stamped in sessions:
        for m, stamp in stamped:
            interrupted = m.extra.get("interrupted") if m.extra else None
            row = (session_id, m.uid or next(uids), m.role, m.content, bool(interrupted), m.provider, m.model,
                   m.source_id[:100], stamp)
            if extras:
                row += tuple(m.extra.get(c) for c in extras)
            rows.append(row)
    return _BASE_COLUMNS + extras, rows


def _title_from(messages: Sequence[ImportedMessage]) -> str | None:
    """Like a spoken session: the first eight words of the first question."""
    first = next((m.content for m in messages if m.role == "user" and m.content.strip()), None)
    if not first:
        return None
    words = first.split()
    return " ".join(words[:8]) + ("…" if len(words) > 8 else "")


# Tags and notes ---------------------------------------------------------------------------------
def normalise_tag(tag: str) -> str:
    """Tags are lower-case single words (no spaces or commas), at most 64 characters."""
    t = tag.strip().lower()
    if not _TAG_OK.match(t):
        raise ValueError(f"{tag!r} is not a tag (one word, no spaces or commas, at most {MAX_TAG} characters)")
    return t


def add_tags(s: Session, session_id: int, tags: Iterable[str]) -> list[str]:
    """Add tags (existing ones are left alone); returns the session's tags afterwards."""
    have = set(tags_of(s, [session_id]).get(session_id, ()))
    for t in dict.fromkeys(normalise_tag(t) for t in tags):
        if t not in have:
            s.add(SessionTag(session_id=session_id, tag=t, created_at=utcnow()))
            have.add(t)
    s.flush()
    return sorted(have)


def remove_tags(s: Session, session_id: int, tags: Iterable[str]) -> list[str]:
    names = [normalise_tag(t) for t in tags]
    s.execute(delete(SessionTag).where(SessionTag.session_id == session_id, SessionTag.tag.in_(names)))
    return list(tags_of(s, [session_id]).get(session_id, ()))


def set_tags(s: Session, session_id: int, tags: Iterable[str]) -> list[str]:
    """Make the session's tags exactly ``tags`` (the History page's editor)."""
    wanted = set(dict.fromkeys(normalise_tag(t) for t in tags if t.strip()))
    have = set(tags_of(s, [session_id]).get(session_id, ()))
    if have - wanted:
        remove_tags(s, session_id, have - wanted)
    if wanted - have:
        add_tags(s, session_id, wanted - have)
    return sorted(wanted)


def tags_of(s: Session, session_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {}
    ids = list(session_ids)
    for i in range(0, len(ids), 500):
        stmt = select(SessionTag.session_id, SessionTag.tag).where(
            SessionTag.session_id.in_(ids[i:i + 500])).order_by(SessionTag.tag)
        for sid, tag in s.execute(stmt):
            out.setdefault(sid, []).append(tag)
    return {k: tuple(v) for k, v in out.items()}


def all_tags(s: Session, user_id: int) -> list[str]:
    stmt = (select(SessionTag.tag).join(ConversationSession, ConversationSession.id == SessionTag.session_id)
            .where(ConversationSession.user_id == user_id).distinct().order_by(SessionTag.tag))
    return list(s.scalars(stmt))


def set_note(s: Session, session_id: int, note: str | None) -> None:
    text = (note or "").strip()
    s.execute(update(ConversationSession).where(ConversationSession.id == session_id).values(note=text or None))


# Ratings ----------------------------------------------------------------------------------------
def rate(s: Session, user_id: int, message_id: int, rating: int, comment: str | None = None) -> Rating:
    """Thumbs up (+1) / down (-1) on a message; rating again replaces the earlier one."""
    if rating not in (1, -1):
        raise ValueError("a rating is up (+1) or down (-1)")
    comment = (comment or "").strip()[:1000] or None
    row = s.scalar(select(MessageRating).where(MessageRating.message_id == message_id))
    now = utcnow()
    if row is None:
        row = MessageRating(message_id=message_id, user_id=user_id, rating=rating, comment=comment,
                            created_at=now, updated_at=now)
        s.add(row)
    else:
        row.rating, row.comment, row.updated_at = rating, comment, now
    s.flush()
    return Rating(message_id, rating, comment, row.updated_at)


def ratings_for(s: Session, message_ids: Sequence[int]) -> dict[int, Rating]:
    out: dict[int, Rating] = {}
    ids = list(message_ids)
    for i in range(0, len(ids), 500):
        for r in s.scalars(select(MessageRating).where(MessageRating.message_id.in_(ids[i:i + 500]))):
            out[r.message_id] = Rating(r.message_id, r.rating, r.comment, r.updated_at)
    return out


def owned_message(s: Session, message_id: int, user_id: int) -> tuple[int, str] | None:
    """(session id, role) of a message of this user's, or None."""
    row = s.execute(select(ConversationMessage.session_id, ConversationMessage.role)
                    .join(ConversationSession, ConversationSession.id == ConversationMessage.session_id)
                    .where(ConversationMessage.id == message_id, ConversationSession.user_id == user_id)).first()
    return (int(row[0]), str(row[1])) if row is not None else None


# Listing with filters ---------------------------------------------------------------------------
def _activity() -> Any:
    return func.coalesce(ConversationSession.last_message_at, ConversationSession.created_at)


def _filtered(stmt: Any, user_id: int, flt: ListFilter | None) -> Any:
    stmt = stmt.where(ConversationSession.user_id == user_id)
    if flt is None:
        return stmt
    if flt.tag:
        stmt = stmt.where(exists().where(SessionTag.session_id == ConversationSession.id,
                                         SessionTag.tag == flt.tag.strip().lower()))
    if flt.source:
        if flt.source == "synthbot-desktop":  # spoken or typed here
            stmt = stmt.where(ConversationSession.source.is_(None))
        else:
            stmt = stmt.where(ConversationSession.source == flt.source)
    if flt.provider:
        stmt = stmt.where(ConversationSession.provider == flt.provider)
    if flt.since is not None:
        stmt = stmt.where(_activity() >= flt.since.astimezone(dt.UTC))
    if flt.until is not None:
        stmt = stmt.where(_activity() < flt.until.astimezone(dt.UTC))
    return stmt


def _info(rows: Sequence[ConversationSession | StoredSession], tags: dict[int, tuple[str, ...]]) -> list[SessionInfo]:
    return [SessionInfo(r.id, r.title, r.provider, r.model, r.tts_engine, r.voice_id, r.message_count or 0,
                        r.created_at, r.last_message_at, r.source, r.source_id, r.note, tags.get(r.id, ()))
            for r in rows]


def list_sessions(s: Session, user_id: int, flt: ListFilter | None = None, *, limit: int = 50,
                  offset: int = 0) -> list[SessionInfo]:
    """Newest activity first, narrowed by ``flt``."""
    stmt = _filtered(select(ConversationSession), user_id, flt).order_by(
        ConversationSession.last_message_at.desc(), ConversationSession.id.desc()).limit(limit).offset(offset)
    rows = list(s.scalars(stmt))
    return _info(rows, tags_of(s, [r.id for r in rows]))


def session_info(s: Session, session_id: int, user_id: int) -> SessionInfo | None:
    row = repo.get_session(s, session_id, user_id)
    if row is None:
        return None
    return _info([row], tags_of(s, [row.id]))[0]


def matching_session_ids(s: Session, user_id: int, flt: ListFilter, ids: Iterable[int]) -> set[int]:
    wanted = list(set(ids))
    if not wanted:
        return set()
    out: set[int] = set()
    for i in range(0, len(wanted), 500):
        stmt = _filtered(select(ConversationSession.id), user_id, flt).where(
            ConversationSession.id.in_(wanted[i:i + 500]))
        out.update(s.scalars(stmt))
    return out


@dataclass(frozen=True)
class Hit:
    session_id: int
    session_title: str | None
    message_id: int
    role: str
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # [start, end) of each query word in ``snippet``
    created_at: dt.datetime


def highlight_spans(snippet: str, words: Sequence[str]) -> tuple[tuple[int, int], ...]:
    """Where the query's words (as word prefixes, like the index) appear in a snippet, merged."""
    spans: list[tuple[int, int]] = []
    for w in words:
        if not w:
            continue
        for m in re.finditer(rf"(?<!\w){re.escape(w)}\w*" if w[0].isalnum() else re.escape(w), snippet,
                             re.IGNORECASE):
            spans.append((m.start(), m.end()))
    if not spans:  # scripts without spaces (CJK): a plain substring match
        for w in words:
            for m in re.finditer(re.escape(w), snippet, re.IGNORECASE):
                spans.append((m.start(), m.end()))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)


def search(s: Session, user_id: int, query: str, flt: ListFilter | None = None, *, limit: int = 50) -> list[Hit]:
    """Full-text search (the index of ``repositories.search_messages``) narrowed by ``flt``.

    With filters, more candidates are read from the index and the filter is applied to their
    sessions in one query, so a narrow filter still finds up to ``limit`` hits in most cases.
    """
    words = re.findall(r"\w+", query, re.UNICODE)
    fetch = limit if flt is None or not flt.active() else max(limit * 20, 1000)
    raw = repo.search_messages(s, user_id, query, limit=fetch)
    if flt is not None and flt.active():
        keep = matching_session_ids(s, user_id, flt, (h.session_id for h in raw))
        raw = [h for h in raw if h.session_id in keep]
    return [Hit(h.session_id, h.session_title, h.message_id, h.role, h.snippet,
                highlight_spans(h.snippet, words), h.created_at) for h in raw[:limit]]


# Retention --------------------------------------------------------------------------------------
def expired_sessions(s: Session, user_id: int, cutoff: dt.datetime) -> list[tuple[int, str | None, int]]:
    """(id, title, messages) of sessions whose last activity is before ``cutoff`` and not tagged keep."""
    limit = cutoff.astimezone(dt.UTC)
    kept = exists().where(SessionTag.session_id == ConversationSession.id, SessionTag.tag == KEEP_TAG)
    stmt = (select(ConversationSession.id, ConversationSession.title, ConversationSession.message_count)
            .where(ConversationSession.user_id == user_id, _activity() < limit, ~kept)
            .order_by(ConversationSession.id))
    return [(int(a), b, int(c or 0)) for a, b, c in s.execute(stmt)]


def delete_expired(s: Session, user_id: int, cutoff: dt.datetime, *, keep_days: int) -> list[int]:
    """Delete what :func:`expired_sessions` finds, with one audit row per deleted conversation."""
    gone: list[int] = []
    for sid, title, count in expired_sessions(s, user_id, cutoff):
        if repo.delete_session(s, sid):
            repo.add_audit(s, "session.retention_delete", user_id=user_id, entity_type="conversation_session",
                           entity_id=str(sid), details={"messages": count, "keep_days": keep_days,
                                                        "title": (title or "")[:100]})
            gone.append(sid)
    return gone


__all__ = [
    "KEEP_TAG", "Hit", "ImportedConversation", "ImportedMessage", "ListFilter", "Rating", "SessionInfo",
    "StoredConversation", "add_tags", "all_tags", "delete_expired", "expired_sessions", "highlight_spans",
    "list_sessions", "normalise_tag", "owned_message", "rate", "ratings_for", "remove_tags", "search",
    "session_info", "set_note", "set_tags", "store_conversation", "tags_of",
]
