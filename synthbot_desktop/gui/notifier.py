"""Desktop notifications for fired timers: the tray icon's message, or a banner in the window.

``QSystemTrayIcon.showMessage`` is Qt's portable notifier (Windows toast, macOS Notification
Center, a freedesktop notification on Linux), so no per-OS code is needed here. Where the
desktop has no tray (headless, offscreen, some tiling window managers) the notice becomes a
:class:`NoticeBanner` in the window, so a reminder is never silently lost. The choice itself is
``services.notifications.channel_for`` (unit-tested without a desktop).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication, QLayout, QSystemTrayIcon, QWidget

from synthbot_desktop.gui.widgets.notice_banner import NoticeBanner
from synthbot_desktop.services.notifications import Notice, channel_for

MESSAGE_MS = 10_000  # how long a tray message stays (the desktop may keep it in its history)


class Notifier:
    """Shows notices for one window; ``tray`` is its QSystemTrayIcon (None where there is none)."""

    def __init__(self, window: QWidget, tray: QSystemTrayIcon | None) -> None:
        self.window = window
        self.tray = tray
        self.banner = NoticeBanner(window)
        _place(window, self.banner)
        self.last_channel: str | None = None

    def channel(self) -> str:
        tray = self.tray
        return channel_for(tray_available=tray is not None and tray.isVisible()
                           and QSystemTrayIcon.isSystemTrayAvailable(),
                           tray_supports_messages=QSystemTrayIcon.supportsMessages())

    def notify(self, notice: Notice) -> str:
        """Show ``notice``; returns the channel used ("tray" or "banner")."""
        channel = self.channel()
        if channel == "tray" and self.tray is not None:
            self.tray.showMessage(notice.title, notice.body, QSystemTrayIcon.MessageIcon.Information, MESSAGE_MS)
        else:
            self.banner.show_notice(notice.title, notice.body)
        QApplication.alert(self.window)  # the taskbar entry asks for attention either way
        self.last_channel = channel
        return channel


def _place(window: QWidget, banner: NoticeBanner) -> None:
    """Under the window's error banner when it has one, else at the top of its layout."""
    anchor: Any = getattr(window, "banner", None)
    parent = anchor.parentWidget() if isinstance(anchor, QWidget) else None
    layout = parent.layout() if parent is not None else window.layout()
    if isinstance(layout, QLayout) and hasattr(layout, "insertWidget"):
        index = layout.indexOf(anchor) + 1 if parent is not None else 0
        layout.insertWidget(index, banner)
