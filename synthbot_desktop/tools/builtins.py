"""Built-in tools: the local date and time, timers that fire an event, opening a URL or file.

Platform differences (how to open something) sit behind :func:`open_command` so the
Windows/macOS/Linux logic is unit-tested on any machine; the side-effect tools are marked so the
registry asks the user first.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from synthbot_desktop.tools.registry import Tool

OBJECT = "object"


def now_local() -> dict[str, str]:
    """The local date, time and zone (the model has no clock of its own)."""
    now = dt.datetime.now().astimezone()
    return {"iso": now.isoformat(timespec="seconds"), "weekday": now.strftime("%A"),
            "zone": str(now.tzname() or now.strftime("%z"))}


def open_command(target: str, platform: str = sys.platform) -> list[str]:
    """The command that opens ``target`` (an http(s) URL or an existing file) in its default app.

    Raises ValueError for anything else, so a model cannot run ``file:`` tricks or programs.
    """
    parsed = urlparse(target)
    if parsed.scheme in ("http", "https"):
        if not parsed.netloc:
            raise ValueError(f"not a complete URL: {target!r}")
    elif not Path(target).expanduser().exists():
        raise ValueError(f"only http(s) URLs or existing files can be opened, not {target!r}")
    else:
        target = str(Path(target).expanduser().resolve())
    if platform.startswith("win"):
        return ["cmd", "/c", "start", "", target]
    if platform == "darwin":
        return ["open", target]
    return ["xdg-open", target]


def _open(target: str) -> str:
    cmd = open_command(target)
    subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return f"opened {target}"


class Timers:
    """Timers as asyncio tasks; when one fires, ``on_fire(label)`` lets a front end show/speak it."""

    def __init__(self, on_fire: Callable[[str], None]) -> None:
        self.on_fire = on_fire
        self.tasks: set[asyncio.Task[None]] = set()

    async def set_timer(self, seconds: int, label: str = "timer") -> str:
        if seconds <= 0 or seconds > 7 * 24 * 3600:
            raise ValueError("seconds must be between 1 and 604800")

        async def fire() -> None:
            await asyncio.sleep(seconds)
            self.on_fire(label)

        task = asyncio.get_running_loop().create_task(fire())
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return f"timer {label!r} set for {seconds} s"

    def cancel_all(self) -> None:
        for t in list(self.tasks):
            t.cancel()


def builtin_tools(timers: Timers) -> list[Tool]:
    return [
        Tool("get_current_time", "The user's current local date, time, weekday and time zone.",
             {"type": OBJECT, "properties": {}, "additionalProperties": False}, now_local, timeout_s=2),
        Tool("set_timer", "Start a timer or reminder that alerts the user after a number of seconds.",
             {"type": OBJECT, "properties": {"seconds": {"type": "integer"}, "label": {"type": "string"}},
              "required": ["seconds"], "additionalProperties": False}, timers.set_timer, timeout_s=2),
        Tool("open", "Open a web URL (http/https) or a file in the user's default application.",
             {"type": OBJECT, "properties": {"target": {"type": "string"}}, "required": ["target"],
              "additionalProperties": False}, _open, side_effect=True, timeout_s=5),
    ]
