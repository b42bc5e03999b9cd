"""Issue #14 item 7: `talk --in` on a corrupt or empty audio file is refused before any session is
created, so no empty "(untitled)" session is left behind."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from synthbot_desktop.cli import main as cli_main
from tests.conftest import JFK
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_llm import base_url, start_fake_llm


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    for key in [k for k in os.environ if k.startswith("SYNTHBOT_")]:
        monkeypatch.delenv(key)
    llm = start_fake_llm("openai", "Hello there.")
    tts = start_fake_elevenlabs()
    monkeypatch.setenv("SYNTHBOT_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("SYNTHBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SYNTHBOT_OPENAI_BASE_URL", base_url("openai", llm))
    monkeypatch.setenv("SYNTHBOT_OPENAI_API_KEY", "sk-test-123")
    monkeypatch.setenv("SYNTHBOT_ELEVENLABS_BASE_URL", tts.url)
    monkeypatch.setenv("SYNTHBOT_ELEVENLABS_API_KEY", FAKE_API_KEY)
    try:
        yield tmp_path
    finally:
        llm.stop()
        tts.stop()


def _sessions(home: Path) -> int:
    dbs = list((home / "data").rglob("*.sqlite3"))
    if not dbs:
        return 0
    con = sqlite3.connect(dbs[0])
    try:
        return int(con.execute("SELECT COUNT(*) FROM conversation_sessions").fetchone()[0])
    finally:
        con.close()


@pytest.mark.parametrize("content", [b"", b"RIFF\x24\x00\x00\x00WAVEfmt garbage" + os.urandom(2000)],
                         ids=["empty", "corrupt"])
def test_bad_audio_leaves_no_session(home: Path, content: bytes, capsys: pytest.CaptureFixture[str]) -> None:
    # A first, good turn creates the database (and one real session) so the count is meaningful.
    out = home / "reply.wav"
    assert cli_main.main(["talk", "--in", str(JFK), "--out", str(out), "--provider", "openai",
                          "--engine", "elevenlabs"]) == 0, capsys.readouterr().err
    before = _sessions(home)
    assert before == 1
    bad = home / "bad.wav"
    bad.write_bytes(content)
    code = cli_main.main(["talk", "--in", str(bad), "--out", str(out), "--provider", "openai",
                          "--engine", "elevenlabs"])
    err = capsys.readouterr().err
    assert code != 0 and "error:" in err and "Traceback" not in err, err
    assert _sessions(home) == before, "a refused recording left an empty session"
