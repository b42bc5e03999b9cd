"""Start the GUI only where it can start, and explain plainly where it cannot.

This module does not import Qt at module level: it runs the checks first, so a machine
without a display gets one line of advice instead of Qt's abort message.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from synthbot_desktop import APP_NAME

_HEADLESS_QPA = {"offscreen", "minimal", "vnc", "eglfs", "linuxfb"}


def display_problem(platform: str | None = None, env: Mapping[str, str] | None = None) -> str | None:
    """Why no window can be shown here, or None when a display is available."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    qpa = env.get("QT_QPA_PLATFORM", "").split(":")[0]
    if qpa in _HEADLESS_QPA:
        return None
    unix_desktop = platform.startswith("linux") or "bsd" in platform
    if unix_desktop and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set): run it from a desktop "
            f"session, under a virtual screen (`xvfb-run -a {APP_NAME}`), or use the command line "
            f"(`{APP_NAME} --help`, e.g. `{APP_NAME} talk --mic`)"
        )
    return None


def launch() -> int:
    problem = display_problem()
    if problem:
        sys.stderr.write(f"{APP_NAME}: {problem}\n")
        return 2
    try:
        from synthbot_desktop.gui.application import run
    except ImportError as exc:
        sys.stderr.write(f"{APP_NAME}: the desktop interface cannot load ({exc}); "
                         f"reinstall, or use the command line (`{APP_NAME} --help`)\n")
        return 2
    return run()
