"""What a fired timer or reminder tells the user, decided once for every front end (no Qt here).

The model picks a timer's label, so it is untrusted text: it is cut to one short line without
control characters and redacted before any front end shows it. The window shows the
:class:`Notice` through its tray icon (``QSystemTrayIcon.showMessage``) or, where no tray exists
(a headless or tray-less desktop), as a banner inside the window; ``talk --mic`` prints
:func:`cli_line`. :func:`channel_for` is that choice, kept here so it is unit-tested without a
desktop.
"""

from __future__ import annotations

from dataclasses import dataclass

from synthbot_desktop.redaction import redact

LABEL_MAX = 120  # characters of a label shown; a tray balloon cuts long text anyway
TITLE = "SynthBot reminder"


@dataclass(frozen=True)
class Notice:
    title: str
    body: str


def clean_label(label: str) -> str:
    """One readable line: control characters become spaces, runs of space collapse, long text is cut."""
    text = "".join(c if c.isprintable() else " " for c in str(label))
    text = " ".join(text.split())
    if len(text) > LABEL_MAX:
        text = text[: LABEL_MAX - 1].rstrip() + "…"
    return redact(text) or "timer"


def timer_notice(label: str) -> Notice:
    """The notice for a timer the model set with ``set_timer`` that just went off."""
    return Notice(TITLE, f"Time is up: {clean_label(label)}")


def spoken_text(notice: Notice) -> str:
    """What is said aloud for the notice (issue #16: a timer fires a notification *and* speaks)."""
    return notice.body if notice.body.endswith((".", "!", "?", "…")) else f"{notice.body}."


def cli_line(notice: Notice) -> str:
    """The line ``talk`` prints on stderr."""
    return f"timer: {notice.body}"


def channel_for(*, tray_available: bool, tray_supports_messages: bool) -> str:
    """``"tray"`` where the desktop shows tray messages, else ``"banner"`` (in the window)."""
    return "tray" if tray_available and tray_supports_messages else "banner"
