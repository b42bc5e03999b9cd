"""`speak` through the real wiring (issue #18): ElevenLabs answers quota_exceeded (the captured body,
from a fake server on 127.0.0.1) and the admin turned feature.tts.piper off in the database, so
the fallback must not speak with Piper: one `error:` line naming the flag, no audio written."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from synthbot_desktop.cli.main import main
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs


@pytest.fixture
def tts(app_env: dict[str, str], memory_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    server = start_fake_elevenlabs()
    monkeypatch.setenv("SYNTHBOT_ELEVENLABS_BASE_URL", server.url)
    monkeypatch.setenv("SYNTHBOT_ELEVENLABS_API_KEY", FAKE_API_KEY)
    monkeypatch.setenv("SYNTHBOT_USER", "alice")
    try:
        yield server
    finally:
        server.stop()


def test_quota_with_piper_turned_off_is_one_line_and_nothing_is_spoken(
        tts: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["admin", "flags", "set", "feature.tts.piper", "off"]) == 0
    capsys.readouterr()
    tts.state.fail_next.append((401, "elevenlabs_error_401_quota_exceeded.json", {}))
    out = tmp_path / "reply.wav"
    assert main(["speak", "Hello there.", "--engine", "elevenlabs", "--out", str(out)]) != 0
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and err[0].startswith("error: "), err
    assert "quota" in err[0] and "feature flag feature.tts.piper" in err[0]
    assert "speaking with the offline Piper voice" not in err[0]
    if out.exists():  # the WAV is opened by the first audio chunk; none may have come from Piper
        with wave.open(str(out)) as w:
            assert w.getnframes() == 0
    assert len(tts.state.streams) == 1
