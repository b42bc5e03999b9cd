"""System-wide talk shortcut: what each platform allows, behind one small adapter.

Limits (documented in docs/user-guide.md):
* Wayland: applications cannot grab keys globally; the compositor must bind a key to
  ``synthbot-desktop-gui`` itself (or the xdg-desktop-portal GlobalShortcuts portal, not used yet).
* X11: a global grab needs XGrabKey through Xlib; not bundled — bind the key in the desktop's
  keyboard settings instead.
* Windows: ``RegisterHotKey`` works without extra permissions (the adapter reports it available).
* macOS: global key monitoring needs the Accessibility permission granted in System Settings.
Inside the window, the push-to-talk key always works.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class ShortcutSupport:
    available: bool
    backend: str
    limitation: str


def describe(platform: str | None = None, env: Mapping[str, str] | None = None) -> ShortcutSupport:
    """What a global shortcut can do here, as a sentence the settings page can show."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    if platform.startswith("win"):
        return ShortcutSupport(True, "win32-registerhotkey", "")
    if platform == "darwin":
        return ShortcutSupport(False, "macos", "macOS needs the Accessibility permission for global keys; "
                               "use the window's push-to-talk key or a Shortcuts.app action")
    session = env.get("XDG_SESSION_TYPE", "").lower()
    if env.get("WAYLAND_DISPLAY") or session == "wayland":
        return ShortcutSupport(False, "wayland", "Wayland does not let apps grab keys globally; bind the key to "
                               "`synthbot-desktop-gui` in your desktop's keyboard settings")
    if env.get("DISPLAY"):
        return ShortcutSupport(False, "x11", "global keys on X11 need a key grab this build does not include; "
                               "bind the key in your desktop's keyboard settings")
    return ShortcutSupport(False, "none", "no desktop session: no global shortcuts")
