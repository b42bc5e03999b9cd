"""What a turn tells the window about its tools and its stored reply (the conversation view's
collapsed tool rows, #16, and rating from the Talk window, #17): the real OpenAI provider against a
scripted local server, the real recorder and database."""

from __future__ import annotations

import asyncio
from typing import Any

from synthbot_desktop.pipeline.events import AssistantDone, Event, ToolCalled, ToolDone
from synthbot_desktop.pipeline.turn import UserInput
from synthbot_desktop.tools.registry import Tool
from tests.integration.test_turn_tools import _engine, _rows, app, server  # noqa: F401  (fixtures)
from tests.support.fake_http import FakeServer
from tests.support.fake_tools_llm import install_script

SECRET = "sk-proj-LEAKEDinTOOLoutput0123456789abcdef"
ARGS = {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"],
        "additionalProperties": False}


def test_tool_events_carry_redacted_arguments_and_result_and_the_reply_names_its_message(
        app: Any, server: FakeServer) -> None:  # noqa: F811
    install_script(server, [[("c1", "get_time", '{"zone": "Europe/Lisbon"}')], "It is five past two."])

    async def get_time(zone: str) -> str:
        return f"14:05 in {zone}; clipboard: {SECRET}"

    events: list[Event] = []

    async def go() -> Any:
        engine, _speech, _out = await _engine(app, events, [Tool("get_time", "The time.", ARGS, get_time)])
        try:
            return await engine.run_turn(UserInput(text="what time is it"))
        finally:
            await engine.chat.aclose()

    result = asyncio.run(go())
    called = [e for e in events if isinstance(e, ToolCalled)]
    done = [e for e in events if isinstance(e, ToolDone)]
    assert [(e.name, e.call_id, e.arguments) for e in called] == [("get_time", "c1", '{"zone": "Europe/Lisbon"}')]
    assert [(e.name, e.call_id, e.is_error) for e in done] == [("get_time", "c1", False)]
    assert "14:05 in Europe/Lisbon" in done[0].result and SECRET not in done[0].result  # redacted, as stored
    assert events.index(called[0]) < events.index(done[0])
    finished = [e for e in events if isinstance(e, AssistantDone)]
    assert finished[-1].message_uid == result.assistant_uid
    messages, _usage = _rows(app)
    assert finished[-1].message_uid in [m.uid for m in messages if m.role == "assistant"]
    tool_row = next(m for m in messages if m.role == "tool")
    assert tool_row.content == done[0].result  # the window shows what History keeps
