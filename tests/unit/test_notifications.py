"""A fired timer's notice: the label is untrusted model text (cut, cleaned, redacted), the tray is
used only where the desktop shows its messages, and `talk` prints the same notice as one line."""

from __future__ import annotations

import pytest

from synthbot_desktop.cli.commands.talk import timer_fired
from synthbot_desktop.redaction import register_secret
from synthbot_desktop.services.notifications import LABEL_MAX, channel_for, clean_label, timer_notice


def test_label_is_one_short_clean_redacted_line() -> None:
    assert clean_label("  tea\n\x1b[31mready\t ") == "tea [31mready"
    long = clean_label("x" * 500)
    assert len(long) == LABEL_MAX and long.endswith("…")
    register_secret("sk-notice-SECRET-123456")
    assert "SECRET" not in clean_label("call back with sk-notice-SECRET-123456")
    assert clean_label("\n\t") == "timer"
    assert timer_notice("tea").body == "Time is up: tea"


@pytest.mark.parametrize(("available", "messages", "channel"), [
    (True, True, "tray"), (True, False, "banner"), (False, True, "banner"), (False, False, "banner")])
def test_channel_needs_a_tray_that_shows_messages(available: bool, messages: bool, channel: str) -> None:
    assert channel_for(tray_available=available, tray_supports_messages=messages) == channel


def test_talk_prints_a_fired_timer(capsys: pytest.CaptureFixture[str]) -> None:
    timer_fired("pasta\nis done")
    assert capsys.readouterr().err == "timer: Time is up: pasta is done\n"
