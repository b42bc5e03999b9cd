"""Repository code for per-user memory (issue #16): facts kept across sessions.

Facts are short strings; :func:`facts_for_prompt` picks the newest that fit a token budget so a
new session's system context never grows without bound as the user keeps adding facts.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import MemoryFact

log = logging.getLogger(__name__)

MAX_FACT_CHARS = 1000


def add(s: Session, user_id: int, content: str, *, source: str = "user") -> MemoryFact:
    """Store one fact; a blank or over-long fact is a one-line ValueError, never truncated silently."""
    text = " ".join(content.split())
    if not text:
        raise ValueError("a memory fact cannot be empty")
    if len(text) > MAX_FACT_CHARS:
        raise ValueError(f"a memory fact is at most {MAX_FACT_CHARS} characters (got {len(text)})")
    fact = MemoryFact(user_id=user_id, content=text, source=source)
    s.add(fact)
    s.flush()
    return fact


def list_facts(s: Session, user_id: int) -> list[MemoryFact]:
    """This user's facts, oldest first."""
    return list(s.scalars(select(MemoryFact).where(MemoryFact.user_id == user_id).order_by(MemoryFact.id)))


def forget(s: Session, user_id: int, fact_id: int) -> bool:
    """Delete one of this user's facts; False when there is no such fact for this user."""
    res = s.execute(delete(MemoryFact).where(MemoryFact.user_id == user_id, MemoryFact.id == fact_id))
    return bool(res.rowcount)  # type: ignore[attr-defined]


def clear(s: Session, user_id: int) -> int:
    """Delete all of this user's facts; returns how many were deleted."""
    res = s.execute(delete(MemoryFact).where(MemoryFact.user_id == user_id))
    return int(res.rowcount)  # type: ignore[attr-defined]


def estimate_tokens(text: str) -> int:
    """Rough token count (~4 characters a token), the same order as the providers' tokenisers."""
    return max(1, (len(text) + 3) // 4)


def facts_for_prompt(s: Session, user_id: int, budget_tokens: int = 300) -> str | None:
    """A system-context block of the newest facts that fit ``budget_tokens``; None when there are none."""
    header = "Things the user asked you to remember:"
    used = estimate_tokens(header)
    lines: list[str] = []
    for fact in reversed(list_facts(s, user_id)):
        line = f"- {fact.content}"
        cost = estimate_tokens(line)
        if used + cost > budget_tokens:
            break
        lines.append(line)
        used += cost
    if not lines:
        return None
    return "\n".join([header, *reversed(lines)])


def with_memory(db: Any, user_id: int, system_prompt: str | None, budget_tokens: int = 300) -> str | None:
    """``system_prompt`` followed by this user's remembered facts, for a NEW session (blocking).

    Reading memory must never stop a conversation from starting: a database error leaves the
    prompt as it was (the error is logged, without the URL's secrets, by the caller's handler)."""
    try:
        with db.session() as s:
            block = facts_for_prompt(s, user_id, budget_tokens)
    except Exception as exc:  # memory is optional context, the turn goes on
        log.warning("memory not loaded: %s", type(exc).__name__)
        return system_prompt
    if block is None:
        return system_prompt
    return f"{system_prompt}\n\n{block}" if system_prompt else block
