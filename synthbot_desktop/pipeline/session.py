"""Conversation sessions: start one per conversation, or resume a past one with its context.

A new session is not written when the conversation starts: it is created together with its
first message (``storage.offline``), so a conversation that never gets a message (bad audio,
a killed turn, a closed window) leaves no empty session, and a conversation can start while
the database is unreachable. Resuming reads the database synchronously, when a conversation
starts, never inside a turn (turns only hand finished records to the background recorder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from synthbot_desktop.errors import UsageError
from synthbot_desktop.llm.base import ChatMessage, Role
from synthbot_desktop.storage import offline
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database
from synthbot_desktop.storage.offline import ConversationCache
from synthbot_desktop.storage.records import new_uid


@dataclass
class ConversationState:
    """What the turn engine needs to know about the conversation it is part of."""

    session_id: int | None  # None until the first message of a new session is written
    provider: str
    model: str
    tts_engine: str | None = None
    voice_id: str | None = None
    system_prompt: str | None = None
    history: list[ChatMessage] = field(default_factory=list)
    resumed: bool = False
    # The session's name before (and besides) its id: the uid of its first message (storage.offline).
    session_uid: str | None = None
    persona_id: int | None = None
    # True until the first message is recorded: that message gets ``session_uid`` as its uid and
    # carries the session's creation (a turn that stores nothing leaves no session).
    session_pending: bool = False
    history_uids: list[str] = field(default_factory=list)  # message uids of ``history`` (for the local cache)

    def context(self, max_chars: int) -> list[ChatMessage]:
        """The newest turns that fit ``max_chars`` (about 4 characters a token), oldest first."""
        picked: list[ChatMessage] = []
        used = 0
        for msg in reversed(self.history):
            used += len(msg.content)
            if used > max_chars and picked:
                break
            picked.append(msg)
        picked.reverse()
        while picked and picked[0].role == "assistant":  # a context must start with the user
            picked.pop(0)
        return picked


def start_session(db: Database | None, user_id: int | None, *, provider: str, model: str,
                  tts_engine: str | None = None, voice_id: str | None = None, persona_id: int | None = None,
                  system_prompt: str | None = None) -> ConversationState:
    """A new conversation; nothing is written until its first message (``db`` is not used)."""
    return ConversationState(None, provider, model, tts_engine, voice_id, system_prompt, persona_id=persona_id,
                             session_uid=new_uid(), session_pending=True)


def resume_session(db: Database, user_id: int, session_id: int, *, provider: str | None = None,
                   model: str | None = None, system_prompt: str | None = None,
                   last_messages: int | None = 200) -> ConversationState:
    """Load a past session; its stored provider/model are used unless the caller overrides them."""
    with db.session() as s:
        row = repo.get_session(s, session_id, user_id)
        if row is None:
            raise UsageError(f"there is no conversation session {session_id}",
                             hint="list sessions with `synthbot-desktop history list`")
        rows = repo.session_messages(s, session_id, last=last_messages)
        kept = [m for m in rows if m.role in ("user", "assistant") and m.content.strip()]
        history = [ChatMessage(cast(Role, m.role), m.content) for m in kept]
        state = ConversationState(
            session_id, provider or row.provider or "", model or row.model or "", row.tts_engine, row.voice_id,
            system_prompt, history, resumed=True,
            session_uid=offline.first_message_uid(s, session_id) or f"id-{session_id}",
            history_uids=[m.uid for m in kept])
    return state


def resume_cached(cache: ConversationCache, spool_file: Path, key: int | str, *, provider: str | None = None,
                  model: str | None = None, system_prompt: str | None = None,
                  reason: str = "the database is unreachable") -> ConversationState:
    """Resume from this computer's copy of the conversation (the database is unreachable)."""
    conv = cache.load(key)
    if conv is None:
        raise UsageError(f"session {key} cannot be continued offline: {reason}, and this computer has no "
                         "copy of that conversation", hint="try again when the database answers")
    for m in offline.spooled_messages(spool_file, conv.session_uid, conv.session_id):
        conv.add(m["uid"], m["role"], m["content"])
    history = [ChatMessage(cast(Role, m["role"]), m["content"]) for m in conv.messages
               if m["role"] in ("user", "assistant") and m["content"].strip()]
    return ConversationState(conv.session_id, provider or conv.provider or "", model or conv.model or "",
                             system_prompt=system_prompt, history=history, resumed=True,
                             session_uid=conv.session_uid)


def drop_last_exchange(conv: ConversationState, text: str) -> bool:
    """Before a reply is regenerated: take the last question and its answer out of the model's
    context, so the new answer is not written with the old one in view (and the question is not
    sent twice). Only when the last question is ``text``; otherwise the context is left alone and
    False is returned. The stored messages stay: History keeps both answers, like a branch."""
    history = conv.history
    end = len(history)
    if end and history[-1].role == "assistant":
        end -= 1
    if not end or history[end - 1].role != "user" or history[end - 1].content.strip() != text.strip():
        return False
    del history[end - 1:]
    del conv.history_uids[len(history):]  # the uids name the first messages of the history
    return True
