"""Conversation sessions: create one per conversation, or resume a past one with its context.

These calls touch the database synchronously, so they run when a conversation starts, never
inside a turn (turns only hand finished records to the background recorder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from synthbot_desktop.errors import UsageError
from synthbot_desktop.llm.base import ChatMessage, Role
from synthbot_desktop.storage import repositories as repo
from synthbot_desktop.storage.db import Database


@dataclass
class ConversationState:
    """What the turn engine needs to know about the conversation it is part of."""

    session_id: int
    provider: str
    model: str
    tts_engine: str | None = None
    voice_id: str | None = None
    system_prompt: str | None = None
    history: list[ChatMessage] = field(default_factory=list)
    resumed: bool = False

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


def start_session(db: Database, user_id: int, *, provider: str, model: str, tts_engine: str | None = None,
                  voice_id: str | None = None, persona_id: int | None = None,
                  system_prompt: str | None = None) -> ConversationState:
    with db.session() as s:
        row = repo.create_session(s, user_id, persona_id=persona_id, provider=provider, model=model,
                                  tts_engine=tts_engine, voice_id=voice_id)
        session_id = row.id
    return ConversationState(session_id, provider, model, tts_engine, voice_id, system_prompt)


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
        history = [ChatMessage(cast(Role, m.role), m.content) for m in rows
                   if m.role in ("user", "assistant") and m.content.strip()]
        state = ConversationState(
            session_id, provider or row.provider or "", model or row.model or "", row.tts_engine, row.voice_id,
            system_prompt, history, resumed=True)
    return state
