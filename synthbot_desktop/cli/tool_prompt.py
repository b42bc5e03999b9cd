"""How the CLI asks before a side-effect tool, and what it says while tools run (stderr only:
stdout stays the reply or the --json document)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from synthbot_desktop.tools.loop import ToolEvent, ToolFiller, ToolFinished, ToolStarted
from synthbot_desktop.tools.registry import Confirm, Tool


def add_tool_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true",
                        help="allow tools with side effects (open, clipboard, forget) without asking")
    parser.add_argument("--no-tools", dest="tools", action="store_false",
                        help="offer the model no tools for this run")


def cli_confirm(yes: bool, *, interactive: bool | None = None) -> Confirm | None:
    """--yes allows; on a terminal the user is asked on stderr; otherwise (piped) refused."""
    if yes:
        return lambda _tool, _args: True
    if not (sys.stdin.isatty() if interactive is None else interactive):
        return None

    async def ask(tool: Tool, args: dict[str, Any]) -> bool:
        shown = json.dumps(args, ensure_ascii=False)[:300]
        print(f"allow {tool.name} {shown}? [y/N] ", end="", file=sys.stderr, flush=True)
        answer = await asyncio.to_thread(sys.stdin.readline)
        return answer.strip().lower() in ("y", "yes")

    return ask


def print_tool_event(event: ToolEvent) -> None:
    if isinstance(event, ToolStarted):
        print(f"[tool {event.name}]", file=sys.stderr, flush=True)
    elif isinstance(event, ToolFiller):
        print(f"[running {event.name}…]", file=sys.stderr, flush=True)
    elif isinstance(event, ToolFinished) and event.is_error:
        print(f"[tool {event.name} failed or was not allowed]", file=sys.stderr, flush=True)
