"""What the conversation view's bubbles need from the rest of the app, hooked on in one line.

Kept out of ``main_window.py`` (its layout is changed elsewhere), like ``tool_status``:
:func:`install` feeds the view the turn events it draws (tool rows #16, latency, the stored
message of each reply) and carries out what its buttons ask — a rating through the same storage
History uses (#17), on the pool so the GUI thread never waits for the database; Regenerate through
the window's :meth:`MainWindow.regenerate_last` and Edit through :meth:`MainWindow.edit_last`, both
ending in the service's turn path; both are disabled while a turn runs (the state events).
"""

from __future__ import annotations

import logging
from typing import Any

from synthbot_desktop.gui.bridge import run_job
from synthbot_desktop.gui.main_window import TURN_STATES
from synthbot_desktop.gui.widgets.conversation import Bubble, latency_text
from synthbot_desktop.pipeline import events as ev
from synthbot_desktop.setting_keys import UI_SHOW_TIMINGS

log = logging.getLogger(__name__)


def install(window: Any, bridge: Any) -> None:
    """Connect ``window.conversation`` (a ConversationView) to the bridge and to storage."""
    view = window.conversation
    ctx = window.ctx

    def on_event(event: Any) -> None:
        if isinstance(event, ev.ToolCalled):
            view.tool_started(event.turn_id, event.name, event.call_id, event.arguments)
        elif isinstance(event, ev.ToolDone):
            view.tool_finished(event.turn_id, event.name, event.call_id, arguments=event.arguments,
                               result=event.result, is_error=event.is_error)

    def on_done(event: ev.AssistantDone) -> None:
        bubble = view.bubble_for_turn(event.turn_id)
        if bubble is not None:
            bubble.message_uid = event.message_uid

    def on_timings(event: ev.TurnTimings) -> None:
        bubble = view.bubble_for_turn(event.turn_id)
        if bubble is not None and ctx.settings.value(UI_SHOW_TIMINGS):
            bubble.set_latency(latency_text(event.timings))

    def on_rating(bubble: Bubble, rating: int) -> None:
        from synthbot_desktop.services.reply_feedback import rate_reply

        before = bubble.previous_rating  # bubble.rating already shows the new choice
        uid, message_id = bubble.message_uid, bubble.message_id

        def stored(found_id: int) -> None:
            bubble.message_id = found_id

        def failed(error: BaseException) -> None:
            bubble.show_rating(before)  # what is shown is what is stored
            message = getattr(error, "message", None) or str(error)
            window.show_error(ev.ErrorEvent(f"could not rate the reply: {message}", getattr(error, "hint", None)))

        run_job(lambda: rate_reply(ctx, rating, message_uid=uid, message_id=message_id), stored, failed)

    def on_state(event: ev.StateChanged) -> None:
        view.set_busy(event.state in TURN_STATES)

    bridge.anyEvent.connect(on_event)
    bridge.stateChanged.connect(on_state)
    bridge.assistantDone.connect(on_done)
    bridge.turnTimings.connect(on_timings)
    view.ratingRequested.connect(on_rating)
    view.regenerateRequested.connect(window.regenerate_last)
    view.editRequested.connect(window.edit_last)


def show_past_messages(window: Any, messages: list[Any]) -> None:
    """A conversation opened from History: bubbles with their stored time, latency and rating,
    tool calls as collapsed rows (``services.reply_feedback.shown_messages``)."""
    view = window.conversation
    view.clear()
    show_latency = window.ctx.settings.value(UI_SHOW_TIMINGS)
    for m in messages:
        turn = f"past-{m.id}"
        if m.role == "tool":
            info = m.tool
            row = view.tool_started(turn, str(info.get("name") or "tool"), str(info.get("call_id") or ""),
                                    str(info.get("arguments") or ""))
            row.finish(result=m.content, is_error=bool(info.get("is_error")))
            continue
        bubble = view.add_message(m.role, m.content, when=m.created_at)
        bubble.setProperty("turn_id", turn)
        if m.interrupted:
            bubble.set_note("interrupted")
        if m.role == "assistant":
            bubble.message_uid, bubble.message_id = m.uid, m.id
            bubble.show_rating(m.rating)
            if show_latency:
                bubble.set_latency(latency_text(m.timings))
    view.refresh_actions()


__all__ = ["install", "show_past_messages"]
