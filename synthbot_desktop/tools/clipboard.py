"""Clipboard read/write without Qt: the platform's own clipboard commands behind one small adapter.

Core code must not import Qt (the tool runs in `talk` and `chat` too), so the clipboard is reached
through the command every platform has: PowerShell's Get-/Set-Clipboard on Windows, pbpaste/pbcopy
on macOS, wl-paste/wl-copy on Wayland and xclip (or xsel) on X11. :func:`clipboard_commands` picks
them from plain inputs (platform, environment, which programs exist), so the choice is unit-tested
for all three systems on any machine; :class:`Clipboard` runs them.

What is read goes to the model, which may be a cloud service: the text is redacted (API keys and
passwords never leave) and both tools are confirmed first like other side effects.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from synthbot_desktop.errors import SynthbotError
from synthbot_desktop.redaction import redact
from synthbot_desktop.tools.registry import Tool

READ_LIMIT = 8_000  # characters given to the model
WRITE_LIMIT = 100_000
TIMEOUT_S = 5.0

_PS = ["powershell", "-NoProfile", "-NonInteractive", "-Command"]


class ClipboardUnavailable(SynthbotError):
    """No clipboard program for this desktop (e.g. Linux without xclip / wl-clipboard)."""


@dataclass(frozen=True)
class ClipboardCommands:
    read: list[str]
    write: list[str]
    encoding: str = "utf-8"


def clipboard_commands(platform: str = sys.platform, env: Mapping[str, str] | None = None,
                       which: Callable[[str], str | None] = shutil.which) -> ClipboardCommands:
    """The read and write commands for this desktop; ClipboardUnavailable says what to install."""
    env = os.environ if env is None else env
    if platform.startswith("win"):
        # UTF-8 both ways: PowerShell's default console encoding would mangle non-ASCII text.
        prefix = "[Console]::OutputEncoding=[Text.Encoding]::UTF8; [Console]::InputEncoding=[Text.Encoding]::UTF8; "
        return ClipboardCommands([*_PS, prefix + "Get-Clipboard -Raw"],
                                 [*_PS, prefix + "Set-Clipboard -Value ([Console]::In.ReadToEnd())"])
    if platform == "darwin":
        return ClipboardCommands(["pbpaste"], ["pbcopy"])
    if env.get("WAYLAND_DISPLAY") and which("wl-paste") and which("wl-copy"):
        return ClipboardCommands(["wl-paste", "--no-newline"], ["wl-copy"])
    if env.get("DISPLAY") or not env.get("WAYLAND_DISPLAY"):
        if which("xclip"):
            return ClipboardCommands(["xclip", "-selection", "clipboard", "-o"], ["xclip", "-selection", "clipboard"])
        if which("xsel"):
            return ClipboardCommands(["xsel", "--clipboard", "--output"], ["xsel", "--clipboard", "--input"])
    raise ClipboardUnavailable("no clipboard program was found",
                               hint="install wl-clipboard (Wayland) or xclip (X11)")


class Clipboard:
    """Runs the chosen commands (blocking; the tool registry calls it from a worker thread)."""

    def __init__(self, commands: Callable[[], ClipboardCommands] = clipboard_commands) -> None:
        self._commands = commands

    def read(self) -> str:
        cmd = self._commands()
        done = subprocess.run(cmd.read, capture_output=True, timeout=TIMEOUT_S, check=False)
        if done.returncode != 0:
            detail = done.stderr.decode(cmd.encoding, "replace").strip()[-200:]
            # xclip/wl-paste exit non-zero for an empty clipboard: that is not an error for the user
            if not done.stdout and ("nothing" in detail.lower() or "no selection" in detail.lower()
                                    or "target" in detail.lower() or not detail):
                return ""
            raise SynthbotError(f"reading the clipboard failed: {redact(detail) or done.returncode}")
        text = done.stdout.decode(cmd.encoding, "replace")
        return text[:-2] if text.endswith("\r\n") and cmd.read[0] == "powershell" else text

    def write(self, text: str) -> None:
        cmd = self._commands()
        # wl-copy / xclip stay running to serve the selection: do not wait for them to exit.
        proc = subprocess.Popen(cmd.write, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        assert proc.stdin is not None
        proc.stdin.write(text.encode(cmd.encoding))
        proc.stdin.close()
        try:
            code = proc.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return  # still serving the selection (X11/Wayland): the text is on the clipboard
        if code != 0:
            err = (proc.stderr.read() if proc.stderr else b"").decode(cmd.encoding, "replace").strip()[-200:]
            raise SynthbotError(f"writing the clipboard failed: {redact(err) or code}")


def clipboard_tools(clipboard: Clipboard | None = None) -> list[Tool]:
    board = clipboard or Clipboard()

    def read() -> dict[str, object]:
        text = board.read()
        return {"text": redact(text)[:READ_LIMIT], "truncated": len(text) > READ_LIMIT}

    def write(text: str) -> str:
        if len(text) > WRITE_LIMIT:
            raise ValueError(f"the text is longer than {WRITE_LIMIT} characters")
        board.write(text)
        return f"copied {len(text)} characters to the clipboard"

    return [
        Tool("clipboard_read", "Read the text on the user's clipboard (asks the user first).",
             {"type": "object", "properties": {}, "additionalProperties": False}, read, side_effect=True,
             timeout_s=TIMEOUT_S + 1),
        Tool("clipboard_write", "Put text on the user's clipboard so they can paste it.",
             {"type": "object", "properties": {"text": {"type": "string"}}, "required": ["text"],
              "additionalProperties": False}, write, side_effect=True, timeout_s=TIMEOUT_S + 1),
    ]
