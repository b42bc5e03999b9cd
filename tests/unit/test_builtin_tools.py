"""Built-in tools: clock, timers firing an event, the per-platform open command."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from synthbot_desktop.llm.base import ToolCall
from synthbot_desktop.tools.builtins import Timers, builtin_tools, now_local, open_command
from synthbot_desktop.tools.registry import ToolRegistry


def test_now_local_is_the_local_zone() -> None:
    got = dt.datetime.fromisoformat(now_local()["iso"])
    assert got.utcoffset() == dt.datetime.now().astimezone().utcoffset()
    assert abs((got - dt.datetime.now().astimezone()).total_seconds()) < 5


@pytest.mark.parametrize(("platform", "head"), [("win32", ["cmd", "/c", "start", ""]), ("darwin", ["open"]),
                                                ("linux", ["xdg-open"])])
def test_open_command_per_platform(platform: str, head: list[str], tmp_path: Path) -> None:
    assert open_command("https://example.org/a?b=1", platform) == [*head, "https://example.org/a?b=1"]
    f = tmp_path / "notes.txt"
    f.write_text("x")
    assert open_command(str(f), platform) == [*head, str(f.resolve())]
    for bad in ("file:///etc/passwd", "javascript:alert(1)", "https://", str(tmp_path / "missing.txt")):
        with pytest.raises(ValueError):
            open_command(bad, platform)


def test_timer_fires_an_event_and_open_asks_first() -> None:
    fired: list[str] = []

    async def go() -> None:
        done = asyncio.Event()
        timers = Timers(lambda label: (fired.append(label), done.set()))
        reg = ToolRegistry()
        reg.extend(builtin_tools(timers))
        res = await reg.execute(ToolCall("1", "set_timer", '{"seconds": 1, "label": "tea"}'))
        assert not res.is_error and "tea" in res.content
        await asyncio.wait_for(done.wait(), 20)
        assert (await reg.execute(ToolCall("2", "set_timer", '{"seconds": 0}'))).is_error
        refused = await reg.execute(ToolCall("3", "open", '{"target": "https://example.org"}'))
        assert refused.is_error and "did not allow" in refused.content  # no confirmation callback
    asyncio.run(go())
    assert fired == ["tea"]
