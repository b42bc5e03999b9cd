"""Settings pages that touch real things: the Audio page's live meter and test tone on the PulseAudio
virtual devices, and the Database page's "Test connection" / "Migrate" against a fresh MariaDB."""

from __future__ import annotations

import itertools
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

from tests.conftest import JFK


@pytest.fixture
def dialog(ctx: Any, qtbot: Any) -> Iterator[Any]:
    from synthbot_desktop.gui.settings.dialog import SettingsDialog

    d = SettingsDialog(ctx)
    qtbot.addWidget(d)
    d.show()
    yield d
    d.close()


@pytest.mark.audio
def test_audio_page_live_meter_follows_the_virtual_mic(dialog: Any, qtbot: Any, virtual_audio: Any) -> None:
    page = dialog.pages["audio"]
    dialog.show_page("audio")
    qtbot.waitUntil(lambda: "microphones" in page.status.text(), timeout=15000)
    assert page.input_box.count() > 1  # "" (system default) and the PulseAudio devices
    assert page.meter.rms == 0.0  # at rest before the test
    page.mic_button.setChecked(True)
    qtbot.waitUntil(lambda: page._stream is not None, timeout=15000)
    player = virtual_audio.play_into_mic(JFK)
    try:
        qtbot.waitUntil(lambda: page.meter.peak > 0.4, timeout=15000)  # speech peaks well above −36 dBFS
    finally:
        player.kill()
        player.wait(5)
    page.mic_button.setChecked(False)
    assert page._stream is None and page.meter.rms == 0.0 and page.meter.peak == 0.0


@pytest.mark.audio
def test_audio_page_test_tone_reaches_the_speaker(dialog: Any, qtbot: Any, virtual_audio: Any) -> None:
    page = dialog.pages["audio"]
    dialog.show_page("audio")
    rec = subprocess.Popen(["parec", "--device=vsink.monitor", "--raw", "--format=s16le", "--rate=16000",
                            "--channels=1"], env=virtual_audio.env, stdout=subprocess.PIPE)
    try:
        time.sleep(0.3)
        page.tone_button.click()
        from synthbot_desktop.gui.settings.base import Busy

        assert Busy.is_busy(page.tone_button)  # one tone at a time, and the click returned at once
        assert page.tone_button.isEnabled()  # busy, not disabled: the focus stays on it (#21 defect 13)
        qtbot.waitUntil(lambda: page.status.text().startswith("Played a"), timeout=20000)
        assert not Busy.is_busy(page.tone_button)
        time.sleep(0.3)
    finally:
        rec.terminate()
        raw, _ = rec.communicate(timeout=5)
    heard = np.frombuffer(raw, dtype=np.int16).astype(np.float32) / 32768
    assert heard.size > 8000 and float(np.max(np.abs(heard))) > 0.05, "the tone never reached the speaker"


@pytest.mark.mysql
def test_database_page_test_and_migrate_on_fresh_mariadb(dialog: Any, qtbot: Any, mysql_url: str) -> None:
    from synthbot_desktop.storage import migrate

    page = dialog.pages["database"]
    dialog.show_page("database")
    page.url.setText(mysql_url)
    page.test_button.click()
    qtbot.waitUntil(lambda: page.test_button.isEnabled() and page.status.text() != "Connecting…", timeout=20000)
    head = migrate.head_revision()
    assert page.status.text().startswith("Connected to ") and f"latest is {head}: press Migrate" in page.status.text()
    page.migrate_button.click()
    qtbot.waitUntil(lambda: page.migrate_button.isEnabled() and page.status.text() != "Migrating…", timeout=60000)
    assert page.status.text().endswith(f"is at {head}.")
    page.test_button.click()
    qtbot.waitUntil(lambda: page.test_button.isEnabled() and page.status.text() != "Connecting…", timeout=20000)
    assert "schema up to date" in page.status.text()


def test_database_page_wrong_url_shows_a_clear_error_without_freezing(dialog: Any, qtbot: Any) -> None:
    from PySide6.QtCore import QTimer

    page = dialog.pages["database"]
    dialog.show_page("database")
    page.url.setText("mysql+pymysql://nobody@127.0.0.1:1/nothing?charset=utf8mb4")
    page.password.setText("s3cret-pass-123")
    ticks: list[float] = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    page.test_button.click()
    qtbot.waitUntil(lambda: page.test_button.isEnabled() and page.status.text() != "Connecting…", timeout=20000)
    timer.stop()
    text = page.status.text()
    assert "127.0.0.1" in text and "s3cret" not in text, text
    assert len(ticks) >= 2 and max(b - a for a, b in itertools.pairwise(ticks)) < 0.25  # the window kept painting
