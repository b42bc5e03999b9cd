"""What lets a turn run while the database server is unreachable, and land once it answers.

Three pieces, all local to this computer:

* **Session identity without the server**: a session is created together with its first
  message, and until the database gives it an id it is named by that message's uid (the
  *session uid*). Replaying the spool creates it once: if the first message exists, so does
  the session. No schema change is needed.
* **A cache of open conversations** (``<data>/conversations/<session uid>.json``): the messages
  the model needs as context, so ``chat --session`` and ``talk --session`` keep the whole
  conversation when the server is away at the start of the command.
* :class:`OfflineSpool`: the recorder's interface when no database could be opened at all;
  every write goes to the same fsynced spool the recorder replays later.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from synthbot_desktop.errors import DatabaseError
from synthbot_desktop.storage.models import ApiUsageLog, ConversationMessage, ConversationSession
from synthbot_desktop.storage.records import SessionSpec

if TYPE_CHECKING:
    from synthbot_desktop.storage.recorder import WriteUnit

log = logging.getLogger(__name__)

CACHE_LIMIT = 20  # conversations kept in the local cache (newest used first)


class UnresolvedSessionError(DatabaseError):
    """A spooled message names a session that was never created (its first unit was set aside)."""


# Session identity --------------------------------------------------------------------------------
def resolve_session_id(s: Session, session_uid: str | None, known: dict[str, int]) -> int | None:
    """The id of the session whose first message has ``session_uid`` (None when not written yet)."""
    if not session_uid:
        return None
    if session_uid in known:
        return known[session_uid]
    return s.scalar(select(ConversationMessage.session_id).where(ConversationMessage.uid == session_uid))


def require_session_id(s: Session, session_uid: str | None, known: dict[str, int]) -> int:
    sid = resolve_session_id(s, session_uid, known)
    if sid is None:
        raise UnresolvedSessionError(f"a message names a conversation session that does not exist ({session_uid})")
    return sid


def ensure_session(s: Session, spec: SessionSpec, user_id: int | None, known: dict[str, int]) -> int:
    """Create the session for ``spec`` unless its first message (hence the session) is stored."""
    sid = resolve_session_id(s, spec.uid, known)
    if sid is not None:
        return sid
    if user_id is None:
        raise DatabaseError("cannot create a conversation session without a user")
    row = ConversationSession(user_id=user_id, persona_id=spec.persona_id, provider=spec.provider,
                              model=spec.model, tts_engine=spec.tts_engine, voice_id=spec.voice_id)
    s.add(row)
    s.flush()
    return row.id


def link_usage(s: Session, links: dict[str, str]) -> None:
    """Attach usage rows recorded when their call ended to the message written at end of turn."""
    for usage_uid, message_uid in links.items():
        msg = s.execute(select(ConversationMessage.id, ConversationMessage.session_id)
                        .where(ConversationMessage.uid == message_uid)).first()
        if msg is not None:
            s.execute(update(ApiUsageLog).where(ApiUsageLog.uid == usage_uid)
                      .values(message_id=msg[0], session_id=msg[1]))


def first_message_uid(s: Session, session_id: int) -> str | None:
    return s.scalar(select(ConversationMessage.uid).where(ConversationMessage.session_id == session_id)
                    .order_by(ConversationMessage.id).limit(1))


# Conversation cache ------------------------------------------------------------------------------
@dataclass
class CachedConversation:
    """The part of a conversation the model needs as context, kept on this computer."""

    session_uid: str
    session_id: int | None = None
    provider: str | None = None
    model: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)  # {"uid", "role", "content"}

    def add(self, uid: str, role: str, content: str) -> None:
        if content and all(m["uid"] != uid for m in self.messages):
            self.messages.append({"uid": uid, "role": role, "content": content})


class ConversationCache:
    """One small JSON file per recent conversation, written atomically."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory

    def _path(self, session_uid: str) -> Path:
        safe = "".join(c for c in session_uid if c.isalnum() or c == "-")[:64]
        return self.dir / f"{safe}.json"

    def load(self, key: int | str) -> CachedConversation | None:
        """By session uid, or by database id (scanning the few cached files)."""
        if isinstance(key, str):
            return self._read(self._path(key))
        if not self.dir.exists():
            return None
        for path in self.dir.glob("*.json"):
            conv = self._read(path)
            if conv is not None and conv.session_id == key:
                return conv
        return None

    @staticmethod
    def _read(path: Path) -> CachedConversation | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            msgs = [{"uid": str(m["uid"]), "role": str(m["role"]), "content": str(m["content"])}
                    for m in data.get("messages", [])]
            sid = data.get("session_id")
            return CachedConversation(str(data["session_uid"]), int(sid) if isinstance(sid, int) else None,
                                      data.get("provider"), data.get("model"), msgs)
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # a missing or damaged cache only costs the offline context

    def save(self, conv: CachedConversation) -> None:
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            path = self._path(conv.session_uid)
            tmp = path.with_suffix(".tmp")
            with tmp.open("w", encoding="utf-8") as fh:
                json.dump({"session_uid": conv.session_uid, "session_id": conv.session_id,
                           "provider": conv.provider, "model": conv.model, "messages": conv.messages},
                          fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
            self._prune()
        except OSError as exc:
            log.warning("could not update the local conversation cache: %s", exc)

    def _prune(self) -> None:
        files = sorted(self.dir.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in files[CACHE_LIMIT:]:
            with contextlib.suppress(OSError):
                old.unlink()

    def clear(self) -> None:
        if self.dir.exists():
            for path in self.dir.glob("*.json"):
                with contextlib.suppress(OSError):
                    path.unlink()


def spooled_messages(spool_file: Path, session_uid: str | None, session_id: int | None) -> list[dict[str, str]]:
    """Messages of one session still waiting in the spool (a turn killed after spooling but
    before the cache was updated is still context)."""
    out: list[dict[str, str]] = []
    if not spool_file.exists():
        return out
    try:
        lines = spool_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return out
    for line in lines:
        try:
            unit = json.loads(line)
            for m in unit.get("messages", []):
                if ((session_uid and m.get("session_uid") == session_uid)
                        or (session_id is not None and m.get("session_id") == session_id)):
                    out.append({"uid": str(m["uid"]), "role": str(m["role"]), "content": str(m["content"])})
        except (ValueError, TypeError, KeyError, AttributeError):
            continue
    return out


# Recorder stand-in -------------------------------------------------------------------------------
class OfflineSpool:
    """The recorder's interface when the database could not be opened: everything is spooled
    (fsynced) at once, for the first command that reaches the server to replay."""

    def __init__(self, spool_dir: Path) -> None:
        from synthbot_desktop.storage.recorder import spool_lock

        self.spool_file = spool_dir / "pending.jsonl"
        self._lock = spool_lock(self.spool_file)  # shared with a recorder replaying the same file

    def _append(self, unit: WriteUnit) -> None:
        from synthbot_desktop.storage.recorder import _append_line

        if unit.is_empty():
            return
        with self._lock:
            _append_line(self.spool_file, json.dumps(unit.to_json(), ensure_ascii=False))

    def submit(self, unit: WriteUnit) -> None:
        self._append(unit)

    def record_now(self, unit: WriteUnit) -> None:
        self._append(unit)

    def write_now(self, unit: WriteUnit) -> bool:
        self._append(unit)
        return False  # spooled, not in the database

    def record_usage(self, record: Any) -> None:
        from synthbot_desktop.storage.recorder import WriteUnit

        self._append(WriteUnit(usage=[record]))

    def session_id_for(self, session_uid: str) -> int | None:
        return None

    def add_session_listener(self, listener: Any) -> None:
        return None  # nothing is written to the database from here

    def spooled_count(self) -> int:
        with self._lock:
            if not self.spool_file.exists():
                return 0
            with self.spool_file.open(encoding="utf-8") as fh:
                return sum(1 for line in fh if line.strip())

    def replay(self) -> int:
        return 0

    def flush(self, timeout: float = 30.0) -> bool:
        return True

    def close(self, timeout: float = 30.0) -> None:
        return None
