"""The clipboard adapter: which commands each desktop uses (Windows, macOS, Wayland, X11), and a
real round trip through subprocess pipes with stand-in clipboard programs on PATH."""

from __future__ import annotations

import asyncio
import os
import stat
import sys
from pathlib import Path

import pytest

from synthbot_desktop.llm.base import ToolCall
from synthbot_desktop.tools.clipboard import Clipboard, ClipboardUnavailable, clipboard_commands, clipboard_tools
from synthbot_desktop.tools.registry import ToolRegistry


def _which(*present: str):  # type: ignore[no-untyped-def]
    return lambda name: f"/usr/bin/{name}" if name in present else None


def test_windows_uses_powershell_in_utf8() -> None:
    cmds = clipboard_commands("win32", {}, _which())
    assert cmds.read[0] == "powershell" and "Get-Clipboard -Raw" in cmds.read[-1]
    assert "Set-Clipboard" in cmds.write[-1] and "UTF8" in cmds.write[-1]


def test_macos_uses_pbpaste_and_pbcopy() -> None:
    cmds = clipboard_commands("darwin", {}, _which())
    assert (cmds.read, cmds.write) == (["pbpaste"], ["pbcopy"])


@pytest.mark.parametrize(("env", "present", "read0"), [
    ({"WAYLAND_DISPLAY": "wayland-0"}, ("wl-paste", "wl-copy", "xclip"), "wl-paste"),
    ({"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, ("xclip",), "xclip"),  # XWayland, no wl-clipboard
    ({"DISPLAY": ":0"}, ("xclip", "wl-paste", "wl-copy"), "xclip"),  # X11 session: wl tools are ignored
    ({"DISPLAY": ":0"}, ("xsel",), "xsel"),
])
def test_linux_picks_by_session_and_installed_programs(env: dict[str, str], present: tuple[str, ...],
                                                       read0: str) -> None:
    assert clipboard_commands("linux", env, _which(*present)).read[0] == read0


@pytest.mark.parametrize("env", [{"WAYLAND_DISPLAY": "wayland-0"}, {"DISPLAY": ":0"}])
def test_linux_without_a_clipboard_program_says_what_to_install(env: dict[str, str]) -> None:
    with pytest.raises(ClipboardUnavailable) as info:
        clipboard_commands("linux", env, _which())
    assert "wl-clipboard" in (info.value.hint or "") and "xclip" in (info.value.hint or "")


@pytest.fixture
def fake_xclip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An `xclip` that keeps the clipboard in a file (reads with -o, writes otherwise)."""
    store = tmp_path / "board.txt"
    script = tmp_path / "bin" / "xclip"
    script.parent.mkdir()
    script.write_text(f"""#!{sys.executable}
import sys
store = {str(store)!r}
if "-o" in sys.argv:
    try:
        sys.stdout.buffer.write(open(store, "rb").read())
    except FileNotFoundError:
        sys.stderr.write("Error: target STRING not available\\n"); sys.exit(1)
else:
    open(store, "wb").write(sys.stdin.buffer.read())
""")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    return store


@pytest.mark.skipif(sys.platform != "linux", reason="the stand-in is an X11 clipboard program")
def test_tools_round_trip_redact_and_ask_first(fake_xclip: Path) -> None:
    board = Clipboard(lambda: clipboard_commands("linux"))
    assert board.read() == ""  # empty clipboard is not an error
    reg = ToolRegistry(confirm=lambda _t, _a: True)
    reg.extend(clipboard_tools(board))

    async def go() -> tuple[str, str]:
        w = await reg.execute(ToolCall("1", "clipboard_write", '{"text": "héllo wörld ☕"}'))
        r = await reg.execute(ToolCall("2", "clipboard_read", "{}"))
        return w.content, r.content

    wrote, read = asyncio.run(go())
    assert "copied 13 characters" in wrote and "héllo wörld ☕" in read
    assert fake_xclip.read_text(encoding="utf-8") == "héllo wörld ☕"

    fake_xclip.write_text("my key is sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX0123", encoding="utf-8")
    secret = asyncio.run(reg.execute(ToolCall("3", "clipboard_read", "{}")))
    assert "sk-proj-" not in secret.content and "[REDACTED]" in secret.content  # keys never reach the model

    refused = ToolRegistry()  # nobody to confirm: reading the clipboard is refused
    refused.extend(clipboard_tools(board))
    assert asyncio.run(refused.execute(ToolCall("4", "clipboard_read", "{}"))).is_error
