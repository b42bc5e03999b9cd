"""Context building: budget trimming, alternation, token estimates."""

from __future__ import annotations

import pytest

from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.llm.context import build_context
from synthbot_desktop.llm.providers.anthropic import alternate
from synthbot_desktop.llm.tokens import estimate_tokens


def turns(n: int, size: int = 400) -> list[ChatMessage]:
    return [ChatMessage("user" if i % 2 == 0 else "assistant", f"{i}:" + "w" * size) for i in range(n)]


def test_everything_fits() -> None:
    ctx = build_context(turns(4, 10), "sys", 10_000, new_message=ChatMessage("user", "now?"))
    assert [m.content[:2] for m in ctx.messages] == ["0:", "1:", "2:", "3:", "no"]
    assert ctx.dropped == 0 and not ctx.truncated and ctx.system == "sys"


def test_oldest_turns_dropped_to_budget_and_start_on_user() -> None:
    history = turns(20)  # ~104 tokens each
    ctx = build_context(history, "be brief", 500, new_message=ChatMessage("user", "latest question"))
    assert ctx.messages[-1].content == "latest question"
    assert ctx.messages[0].role == "user"
    assert ctx.estimated_tokens <= 500
    assert ctx.dropped == 21 - len(ctx.messages) and ctx.dropped > 10
    kept_ids = [int(m.content.split(":")[0]) for m in ctx.messages[:-1]]
    assert kept_ids == list(range(20 - len(kept_ids), 20))  # newest kept, in order


def test_oversized_new_message_is_trimmed_from_the_start() -> None:
    text = "intro " * 2000 + "THE QUESTION?"
    ctx = build_context([], None, 300, new_message=ChatMessage("user", text))
    assert ctx.messages[0].content.endswith("THE QUESTION?") and ctx.messages[0].content.startswith("…")
    assert ctx.estimated_tokens <= 300


def test_system_and_empty_history_messages_skipped() -> None:
    history = [ChatMessage("system", "old persona"), ChatMessage("user", "  "), ChatMessage("user", "hi")]
    ctx = build_context(history, None, 1000)
    assert ctx.messages == [ChatMessage("user", "hi")]
    with pytest.raises(ValueError):
        build_context(history, None, 0)


def test_token_estimates() -> None:
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd" * 10) == 10
    assert estimate_tokens("你好世界") == 4  # one token per CJK character
    assert estimate_tokens("é" * 8) == 4  # UTF-8 bytes, not characters


def test_anthropic_alternation() -> None:
    msgs = [ChatMessage("assistant", "orphan"), ChatMessage("user", "a"), ChatMessage("user", "b"),
            ChatMessage("system", "extra rule"), ChatMessage("assistant", "c")]
    wire, system = alternate(msgs, "base")
    assert wire == [{"role": "user", "content": "a\n\nb"}, {"role": "assistant", "content": "c"}]
    assert system == "base\n\nextra rule"
