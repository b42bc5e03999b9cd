"""The display check per platform (run on Linux CI, covering macOS/Windows logic too)."""

from __future__ import annotations

import pytest

from synthbot_desktop.gui_launcher import display_problem


@pytest.mark.parametrize(("platform", "env", "ok"), [
    ("linux", {}, False),
    ("linux", {"DISPLAY": ":0"}, True),
    ("linux", {"WAYLAND_DISPLAY": "wayland-0"}, True),
    ("linux", {"QT_QPA_PLATFORM": "offscreen"}, True),
    ("freebsd14", {}, False),
    ("darwin", {}, True),
    ("win32", {}, True),
])
def test_display_problem(platform: str, env: dict[str, str], ok: bool) -> None:
    problem = display_problem(platform, env)
    assert (problem is None) == ok
    if problem:
        assert "xvfb-run" in problem and "\n" not in problem
