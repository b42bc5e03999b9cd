"""System-wide talk shortcut: what each platform allows, behind one small adapter.

* X11: ``XGrabKey`` on the root window through python-xlib, in a listener thread with its own
  display connection; presses are queued to the GUI thread as a Qt signal.
* Windows: ``RegisterHotKey`` through ctypes, with a message loop in a listener thread.
* Wayland: applications cannot grab keys globally; the compositor must bind a key to
  ``synthbot-desktop-gui`` itself (the xdg-desktop-portal GlobalShortcuts portal is not used yet).
* macOS: global key monitoring needs the Accessibility permission; not implemented — the
  window's push-to-talk key works, or bind a Shortcuts.app action.
Inside the window the push-to-talk key always works. The shortcut *toggles* talking (press to
start, press again to stop): Windows reports presses only, and a toggle behaves the same on X11.

The key-sequence → native mapping functions are pure, so each platform's logic is unit-tested
everywhere; only the listener threads need the real platform.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import select
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal, Slot

from synthbot_desktop.errors import SynthbotError
from synthbot_desktop.errors import describe as describe_error

log = logging.getLogger(__name__)


class ShortcutError(SynthbotError):
    """The global shortcut could not be parsed or registered (the app keeps working without it)."""


@dataclass(frozen=True)
class ShortcutSupport:
    available: bool
    backend: str
    limitation: str


def _has_xlib() -> bool:
    return importlib.util.find_spec("Xlib") is not None


def describe(platform: str | None = None, env: Mapping[str, str] | None = None,
             has_xlib: bool | None = None) -> ShortcutSupport:
    """What a global shortcut can do here, as a sentence the settings page can show."""
    platform = platform or sys.platform
    env = os.environ if env is None else env
    if platform.startswith("win"):
        return ShortcutSupport(True, "win32-registerhotkey", "")
    if platform == "darwin":
        return ShortcutSupport(False, "macos", "macOS only lets apps watch keys system-wide with the Accessibility "
                               "permission, which this build does not request; use the window's push-to-talk key "
                               "or a Shortcuts.app action")
    session = env.get("XDG_SESSION_TYPE", "").lower()
    if env.get("WAYLAND_DISPLAY") or session == "wayland":
        return ShortcutSupport(False, "wayland", "Wayland does not let apps grab keys globally; bind the key to "
                               "`synthbot-desktop-gui` in your desktop's keyboard settings")
    if env.get("DISPLAY"):
        if has_xlib if has_xlib is not None else _has_xlib():
            return ShortcutSupport(True, "x11-xgrabkey", "")
        return ShortcutSupport(False, "x11", "python-xlib is not installed, so the key cannot be grabbed; "
                               "install it (pip install python-xlib) or bind the key in your desktop's settings")
    return ShortcutSupport(False, "none", "no desktop session: no global shortcuts")


# Key sequences ------------------------------------------------------------------------------------
MODIFIER_NAMES = {"ctrl": "ctrl", "control": "ctrl", "alt": "alt", "shift": "shift", "meta": "meta",
                  "super": "meta", "win": "meta", "cmd": "meta"}


def parse_sequence(text: str) -> tuple[frozenset[str], str]:
    """"Ctrl+Alt+Space" → ({"ctrl", "alt"}, "space"). One key and any modifiers, as Qt spells them."""
    parts = [p.strip() for p in text.replace(" ", "").split("+")]
    if text.strip().endswith("++"):  # "Ctrl++": the plus key itself
        parts = [*parts[:-2], "plus"]
    if not text.strip() or any(not p for p in parts):
        raise ShortcutError(f"the shortcut {text!r} is not a key sequence",
                            hint="write it like Ctrl+Alt+Space in Settings → General")
    *mods, key = parts
    unknown = [m for m in mods if m.lower() not in MODIFIER_NAMES]
    if unknown:
        raise ShortcutError(f"the shortcut {text!r} has an unknown modifier {unknown[0]!r}",
                            hint="use Ctrl, Alt, Shift or Meta")
    if not mods:
        raise ShortcutError(f"the shortcut {text!r} has no modifier: it would steal that key from every program",
                            hint="add Ctrl, Alt, Shift or Meta, e.g. Ctrl+Alt+Space")
    return frozenset(MODIFIER_NAMES[m.lower()] for m in mods), key.lower()


# Windows -------------------------------------------------------------------------------------------
WIN_MODS = {"alt": 0x0001, "ctrl": 0x0002, "shift": 0x0004, "meta": 0x0008}
WIN_MOD_NOREPEAT = 0x4000
WIN_NAMED_KEYS = {"space": 0x20, "return": 0x0D, "enter": 0x0D, "tab": 0x09, "escape": 0x1B, "esc": 0x1B,
                  "backspace": 0x08, "insert": 0x2D, "ins": 0x2D, "delete": 0x2E, "del": 0x2E, "home": 0x24,
                  "end": 0x23, "pgup": 0x21, "pageup": 0x21, "pgdown": 0x22, "pagedown": 0x22, "left": 0x25,
                  "up": 0x26, "right": 0x27, "down": 0x28, "pause": 0x13, "print": 0x2C, "plus": 0xBB,
                  ",": 0xBC, "-": 0xBD, ".": 0xBE, "/": 0xBF, ";": 0xBA, "`": 0xC0}


def win32_binding(text: str) -> tuple[int, int]:
    """Key sequence → (``fsModifiers``, virtual-key code) for ``RegisterHotKey``."""
    mods, key = parse_sequence(text)
    flags = WIN_MOD_NOREPEAT
    for m in mods:
        flags |= WIN_MODS[m]
    if len(key) == 1 and key.isalnum():
        return flags, ord(key.upper())
    if key.startswith("f") and key[1:].isdigit() and 1 <= int(key[1:]) <= 24:
        return flags, 0x70 + int(key[1:]) - 1
    if key in WIN_NAMED_KEYS:
        return flags, WIN_NAMED_KEYS[key]
    raise ShortcutError(f"the key {key!r} cannot be used for a Windows hotkey", hint="pick a letter, digit, F-key or Space")


# X11 ----------------------------------------------------------------------------------------------
X_SHIFT, X_LOCK, X_CONTROL, X_MOD1, X_MOD2, X_MOD4 = 1, 2, 4, 8, 16, 64
X_MODS = {"shift": X_SHIFT, "ctrl": X_CONTROL, "alt": X_MOD1, "meta": X_MOD4}
X_NAMED_KEYS = {"space": "space", "return": "Return", "enter": "Return", "tab": "Tab", "escape": "Escape",
                "esc": "Escape", "backspace": "BackSpace", "insert": "Insert", "delete": "Delete", "home": "Home",
                "end": "End", "pgup": "Prior", "pageup": "Prior", "pgdown": "Next", "pagedown": "Next",
                "left": "Left", "up": "Up", "right": "Right", "down": "Down", "pause": "Pause", "print": "Print",
                "plus": "plus", ",": "comma", "-": "minus", ".": "period", "/": "slash", ";": "semicolon"}
#: Caps Lock and Num Lock change the modifier state: grab every combination so the key works with them on.
X_IGNORED_MODS = (0, X_LOCK, X_MOD2, X_LOCK | X_MOD2)


def x11_binding(text: str) -> tuple[int, str]:
    """Key sequence → (X modifier mask, keysym name) for ``XGrabKey``."""
    mods, key = parse_sequence(text)
    mask = 0
    for m in mods:
        mask |= X_MODS[m]
    if len(key) == 1 and key.isalnum():
        return mask, key
    if key.startswith("f") and key[1:].isdigit() and 1 <= int(key[1:]) <= 35:
        return mask, key.upper()
    if key in X_NAMED_KEYS:
        return mask, X_NAMED_KEYS[key]
    raise ShortcutError(f"the key {key!r} cannot be used for an X11 grab", hint="pick a letter, digit, F-key or Space")


class X11Listener:
    """Grabs one key combination on the root window; calls ``on_press`` from its own thread."""

    def __init__(self, sequence: str, on_press: Callable[[], None], display_name: str | None = None) -> None:
        from Xlib import XK, X, display, error

        self.mask, keysym_name = x11_binding(sequence)
        self.on_press = on_press
        self._stop = threading.Event()
        try:
            self.display = display.Display(display_name)
        except Exception as exc:  # Xlib raises several unrelated types for "cannot connect"
            raise ShortcutError(f"cannot connect to the X display for the global shortcut: {exc}",
                                hint="is DISPLAY set to a running X server?") from exc
        self.root = self.display.screen().root
        keysym = XK.string_to_keysym(keysym_name)
        self.keycode = self.display.keysym_to_keycode(keysym)
        if not keysym or not self.keycode:
            self.display.close()
            raise ShortcutError(f"the keyboard has no key for {sequence!r}", hint="pick another shortcut")
        catcher = error.CatchError(error.BadAccess)
        for extra in X_IGNORED_MODS:
            self.root.grab_key(self.keycode, self.mask | extra, True, X.GrabModeAsync, X.GrabModeAsync,
                               onerror=catcher)
        self.display.sync()
        if catcher.get_error():
            self.display.close()
            raise ShortcutError(f"another program already uses {sequence} as a global shortcut",
                                hint="choose a different one in Settings → General")
        self._thread = threading.Thread(target=self._run, name="synthbot-hotkey-x11", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        from Xlib import X

        fd = self.display.fileno()
        while not self._stop.is_set():
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            for _ in range(self.display.pending_events()):
                event = self.display.next_event()
                # Auto-repeat sends press/release pairs while the key is held: one press per hold
                # is what counts, and the X server never repeats a grabbed key's press alone.
                if event.type == X.KeyPress and event.detail == self.keycode:
                    self.on_press()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1.0)
        try:
            for extra in X_IGNORED_MODS:
                self.root.ungrab_key(self.keycode, self.mask | extra)
            self.display.sync()
        finally:
            self.display.close()


class Win32Listener:  # pragma: no cover - needs Windows; the mapping is unit-tested everywhere
    """``RegisterHotKey`` on a thread of its own (hotkeys belong to the registering thread)."""

    WM_HOTKEY, WM_QUIT, HOTKEY_ID = 0x0312, 0x0012, 0x5342

    def __init__(self, sequence: str, on_press: Callable[[], None]) -> None:
        self.mods, self.vk = win32_binding(sequence)
        self.on_press = on_press
        self._registered = threading.Event()
        self._error: str | None = None
        self._thread_id = 0
        self._thread = threading.Thread(target=self._run, name="synthbot-hotkey-win32", daemon=True)
        self._thread.start()
        self._registered.wait(2.0)
        if self._error:
            raise ShortcutError(self._error, hint="choose a different shortcut in Settings → General")

    def _run(self) -> None:
        import ctypes
        from ctypes import wintypes

        user32 = ctypes.windll.user32  # type: ignore[attr-defined]
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        self._thread_id = kernel32.GetCurrentThreadId()
        if not user32.RegisterHotKey(None, self.HOTKEY_ID, self.mods, self.vk):
            self._error = "another program already uses this global shortcut"
            self._registered.set()
            return
        self._registered.set()
        msg = wintypes.MSG()
        try:
            while user32.GetMessageW(ctypes.byref(msg), None, 0, 0) > 0:
                if msg.message == self.WM_HOTKEY and msg.wParam == self.HOTKEY_ID:
                    self.on_press()
        finally:
            user32.UnregisterHotKey(None, self.HOTKEY_ID)

    def close(self) -> None:
        import ctypes

        if self._thread_id:
            ctypes.windll.user32.PostThreadMessageW(self._thread_id, self.WM_QUIT, 0, 0)  # type: ignore[attr-defined]
        self._thread.join(1.0)


class GlobalShortcut(QObject):
    """The Qt side: ``activated`` fires on the GUI thread each time the system-wide key is pressed.

    ``status`` is a sentence for the settings page: registered, or why not and what to do.
    """

    activated = Signal()
    _pressed = Signal()  # emitted by the listener thread, queued into this object's (GUI) thread

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pressed.connect(self._deliver)
        self._listener: Any = None
        self.status = "not registered"
        self.support = describe()

    @Slot()
    def _deliver(self) -> None:
        self.activated.emit()  # on the GUI thread, whatever the receivers are

    @property
    def active(self) -> bool:
        return self._listener is not None

    def register(self, sequence: str, *, platform: str | None = None) -> bool:
        """Grab ``sequence`` system-wide where the platform allows; False (with ``status``) otherwise."""
        self.unregister()
        self.support = describe(platform)
        if not sequence.strip():
            self.status = "no global shortcut set"
            return False
        if not self.support.available:
            self.status = self.support.limitation
            return False
        try:
            if self.support.backend == "x11-xgrabkey":
                self._listener = X11Listener(sequence, self._pressed.emit)
            else:
                self._listener = Win32Listener(sequence, self._pressed.emit)
        except ShortcutError as exc:
            self.status = describe_error(exc)
            log.info("global shortcut not registered: %s", self.status)
            return False
        self.status = f"{sequence} works in every application"
        return True

    def unregister(self) -> None:
        if self._listener is not None:
            self._listener.close()
            self._listener = None


__all__ = ["GlobalShortcut", "ShortcutError", "ShortcutSupport", "describe", "parse_sequence", "win32_binding",
           "x11_binding"]
