"""What the model sees: system prompt plus as many recent turns as the token budget allows.

Old turns are dropped whole, oldest first, so the model never sees half a sentence; the newest
user message is always kept (trimmed from its start only when it alone exceeds the budget, so
the end of a long dictation, usually the question, survives). Turns are dropped in
user/assistant pairs where possible so the kept history still alternates. Token counts are
estimates (see :mod:`synthbot_desktop.llm.tokens`), so the budget should leave some headroom
below the model's real limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.tokens import MESSAGE_OVERHEAD_TOKENS, estimate_tokens


@dataclass(frozen=True)
class Context:
    system: str | None
    messages: list[ChatMessage]
    estimated_tokens: int
    dropped: int  # how many history messages did not fit
    #: characters cut from the start of the newest message (it alone exceeded the budget); the
    #: stored message stays whole, so callers must say that the model saw less than was stored
    trimmed_chars: int = 0

    @property
    def truncated(self) -> bool:
        return self.dropped > 0 or self.trimmed_chars > 0


def _cost(m: ChatMessage) -> int:
    return estimate_tokens(m.content) + MESSAGE_OVERHEAD_TOKENS


def build_context(
    history: Sequence[ChatMessage],
    system_prompt: str | None,
    budget_tokens: int,
    *,
    new_message: ChatMessage | None = None,
    max_messages: int | None = None,
) -> Context:
    """Fit ``history`` (+ ``new_message``) into ``budget_tokens`` including the system prompt.

    Empty and system messages inside the history are skipped (the system prompt is separate).
    """
    if budget_tokens <= 0:
        raise ValueError("budget_tokens must be positive")
    turns = [m for m in history if m.role != "system" and m.content.strip()]
    if new_message is not None:
        turns.append(new_message)
    system_cost = estimate_tokens(system_prompt or "") + (MESSAGE_OVERHEAD_TOKENS if system_prompt else 0)
    remaining = budget_tokens - system_cost
    if not turns:
        return Context(system_prompt or None, [], system_cost, 0)

    last = turns[-1]
    last_cost = _cost(last)
    trimmed = 0
    if last_cost > remaining:
        keep_chars = max(1, (remaining - MESSAGE_OVERHEAD_TOKENS - 1) * 4)  # -1: the "…" marker
        trimmed = max(0, len(last.content) - keep_chars)
        last = ChatMessage(last.role, "…" + last.content[-keep_chars:])
        last_cost = _cost(last)
    kept: list[ChatMessage] = [last]
    used = last_cost
    for m in reversed(turns[:-1]):
        if max_messages is not None and len(kept) >= max_messages:
            break
        c = _cost(m)
        if used + c > remaining:
            break
        kept.append(m)
        used += c
    kept.reverse()
    # Start on a user turn: an orphan assistant reply at the front confuses most models.
    while len(kept) > 1 and kept[0].role != "user":
        used -= _cost(kept.pop(0))
    dropped = len(turns) - len(kept)
    return Context(system_prompt or None, kept, used + system_cost, dropped, trimmed)
