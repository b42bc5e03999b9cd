"""Regenerate's context rule (pipeline.session.drop_last_exchange): the last question and its
answer leave the model's context only when the question is the one being asked again."""

from __future__ import annotations

from synthbot_desktop.llm.base import ChatMessage
from synthbot_desktop.pipeline.session import ConversationState, drop_last_exchange


def _conv(*pairs: tuple[str, str]) -> ConversationState:
    history = [ChatMessage(role, text) for role, text in pairs]  # type: ignore[arg-type]
    return ConversationState(1, "openai", "m", history=history, history_uids=[f"u{i}" for i in range(len(history))])


def test_drops_the_last_question_and_answer() -> None:
    conv = _conv(("user", "a"), ("assistant", "A"), ("user", "b"), ("assistant", "B"))
    assert drop_last_exchange(conv, " b ")
    assert [m.content for m in conv.history] == ["a", "A"] and conv.history_uids == ["u0", "u1"]


def test_a_question_without_answer_and_a_mismatch() -> None:
    conv = _conv(("user", "a"), ("assistant", "A"), ("user", "b"))  # the answer was never stored
    assert drop_last_exchange(conv, "b") and [m.content for m in conv.history] == ["a", "A"]
    conv = _conv(("user", "a"), ("assistant", "A"))
    assert not drop_last_exchange(conv, "something else") and len(conv.history) == 2
    assert not drop_last_exchange(_conv(), "a")
