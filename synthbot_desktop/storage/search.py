"""Full-text search over messages, newest first, per dialect (FTS5 on SQLite, FULLTEXT on
MySQL/MariaDB with a newest-window pre-scan, LIKE for scripts written without spaces); hits are
plain :class:`SearchHit` dataclasses, not ORM rows."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import ConversationMessage, ConversationSession


@dataclass(frozen=True)
class SearchHit:
    session_id: int
    session_title: str | None
    message_id: int
    role: str
    snippet: str
    created_at: dt.datetime


_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)
# Scripts written without spaces between words: full-text tokenizers see whole runs as one token.
_NO_SPACES = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")


def search_messages(s: Session, user_id: int, query: str, *, limit: int = 50) -> list[SearchHit]:
    """Full-text search over message content, newest first.

    SQLite uses the FTS5 index (prefix match on each word), MySQL/MariaDB its FULLTEXT index
    in boolean mode; both fall back to LIKE for text the full-text tokenizers cannot index
    (e.g. CJK without spaces, words shorter than MySQL's minimum).
    """
    words = _FTS_TOKEN.findall(query)
    if not words:
        return []
    dialect = s.get_bind().dialect.name
    base = (
        select(ConversationMessage, ConversationSession.title)
        .join(ConversationSession, ConversationSession.id == ConversationMessage.session_id)
        .where(ConversationSession.user_id == user_id)
    )
    rows: list[Any] = []
    fts_usable = not _NO_SPACES.search(query)
    if dialect == "sqlite" and fts_usable:
        # FTS5 stays fast enough here (~60 ms for a word in 40 % of 1M messages, ~1 ms for a rare
        # one); a newest-window pre-scan measured slower on SQLite, whose planner walks the join.
        match = " ".join(f'"{w}"*' for w in words)
        ids = select(text("rowid")).select_from(text("conversation_messages_fts")).where(
            text("conversation_messages_fts MATCH :q")
        )
        stmt = base.where(ConversationMessage.id.in_(ids)).params(q=match)
        rows = list(s.execute(stmt.order_by(ConversationMessage.id.desc()).limit(limit)))
    elif dialect in ("mysql", "mariadb") and fts_usable and all(len(w) >= 3 for w in words):
        # InnoDB's FULLTEXT ignores tokens shorter than innodb_ft_min_token_size (3), and reads every
        # posting of a term before ORDER BY id DESC LIMIT can stop it: a common word cost seconds
        # at 1M messages. The newest messages are scanned first (cheap, and enough for common
        # words); the index answers when that window holds too few hits.
        rows = _recent_word_matches(s, base, words, limit)
        if len(rows) < limit:
            against = " ".join(f"+{w}*" for w in words)
            cond = text("MATCH (conversation_messages.content) AGAINST (:q IN BOOLEAN MODE)").bindparams(q=against)
            rows = list(s.execute(base.where(cond).order_by(ConversationMessage.id.desc()).limit(limit)))
    else:
        fts_usable = False
    if not rows and not fts_usable:
        # A scan, but only for text the tokenizers cannot split into words (CJK runs, very
        # short words on MySQL); a plain miss stays an index lookup.
        like = base
        for w in words:
            like = like.where(ConversationMessage.content.like(f"%{w}%"))
        rows = list(s.execute(like.order_by(ConversationMessage.id.desc()).limit(limit)))
    return [
        SearchHit(m.session_id, title, m.id, m.role, _snippet(m.content, words), m.created_at)
        for m, title in rows
    ]


# Newest messages scanned before asking MySQL's FULLTEXT index. A word in >= 2.5 % of messages fills
# 50 hits from this window (~10 ms); a rarer word has few enough postings for the index
# (~3 us each). Measured in benchmarks/reports/storage.md.
RECENT_SEARCH_WINDOW = 2_000


def _recent_word_matches(s: Session, base: Any, words: list[str], limit: int) -> list[Any]:
    """Newest-first hits among the newest messages, with the index's semantics (word prefixes)."""
    top = s.scalar(select(func.max(ConversationMessage.id)))
    if top is None:
        return []
    stmt = base.where(ConversationMessage.id > top - RECENT_SEARCH_WINDOW)
    for w in words:
        escaped = w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(ConversationMessage.content.like(f"%{escaped}%", escape="\\"))
    candidates = list(s.execute(stmt.order_by(ConversationMessage.id.desc()).limit(limit * 4)))
    starts = [re.compile(rf"(?<!\w){re.escape(w)}", re.IGNORECASE) for w in words]
    hits = [row for row in candidates if all(p.search(row[0].content) for p in starts)]
    return hits[:limit]


def _snippet(content: str, words: list[str], width: int = 120) -> str:
    low = content.lower()
    pos = min((p for p in (low.find(w.lower()) for w in words) if p >= 0), default=0)
    start = max(0, pos - width // 3)
    piece = content[start : start + width].replace("\n", " ")
    return ("…" if start else "") + piece + ("…" if start + width < len(content) else "")
