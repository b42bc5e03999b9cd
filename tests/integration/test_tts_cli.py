"""`speak` and `voices` commands end to end: fake ElevenLabs, real SQLite, WAV on disk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.fake_elevenlabs import FAKE_API_KEY, FakeElevenLabs, start_fake_elevenlabs


@pytest.fixture
def fake() -> Iterator[FakeElevenLabs]:
    server = start_fake_elevenlabs()
    yield server
    server.stop()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "synthbot_desktop", *args], env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def env(app_env: dict[str, str], fake: FakeElevenLabs) -> dict[str, str]:
    e = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHBOT_")}
    e.update(app_env, SYNTHBOT_ELEVENLABS_BASE_URL=fake.url, SYNTHBOT_ELEVENLABS_API_KEY=FAKE_API_KEY)
    return e


def test_speak_to_wav_records_one_usage_row(env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "hello.wav"
    r = cli(env, "speak", "Hello from the command line.", "--engine", "elevenlabs", "--out", str(out), "--json")
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["engine"] == "elevenlabs" and result["sample_rate"] == 24000
    with wave.open(str(out)) as w:
        assert w.getframerate() == 24000 and w.getnframes() / 24000 == pytest.approx(result["audio_seconds"], abs=0.01)
    assert FAKE_API_KEY not in r.stderr + r.stdout
    db = Path(env["SYNTHBOT_DATA_DIR"]).glob("**/*.sqlite3")
    engine = create_engine(f"sqlite:///{next(db)}")
    with engine.connect() as c:
        rows = c.execute(text("select provider, characters, request_id, ttfb_ms, success from api_usage_logs")).all()
    assert len(rows) == 1
    assert rows[0][0] == "elevenlabs" and rows[0][1] == len("Hello from the command line.")
    assert rows[0][2] == "req_fake_000001" and rows[0][3] > 0 and rows[0][4]


def test_speak_cost_uses_the_users_price_override(env: dict[str, str], tmp_path: Path) -> None:
    """The user's pricing.toml must price speech as it prices chat (it was ignored for TTS)."""
    config_dir = Path(env["SYNTHBOT_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "pricing.toml").write_text('[tts.elevenlabs]\n"eleven_flash_v2_5" = { per_1k_chars = 2.5 }\n',
                                             encoding="utf-8")
    text_ = "Twenty characters!!"
    r = cli(env, "speak", text_, "--engine", "elevenlabs", "--out", str(tmp_path / "c.wav"))
    assert r.returncode == 0, r.stderr
    engine = create_engine(f"sqlite:///{next(Path(env['SYNTHBOT_DATA_DIR']).glob('**/*.sqlite3'))}")
    with engine.connect() as c:
        (cost,) = c.execute(text("select cost_usd from api_usage_logs")).one()
    engine.dispose()
    assert Decimal(str(cost)) == Decimal("2.5") * len(text_) / 1000


def test_speak_errors_are_one_line(env: dict[str, str], tmp_path: Path) -> None:
    r = cli(env, "speak", "   ", "--out", str(tmp_path / "x.wav"))
    assert r.returncode == 2 and "nothing to say" in r.stderr
    env2 = dict(env, SYNTHBOT_ELEVENLABS_API_KEY="sk_wrong_key", SYNTHBOT_SET__tts__fallback_to_piper="false")
    r = cli(env2, "speak", "Hi.", "--engine", "elevenlabs", "--out", str(tmp_path / "y.wav"))
    assert r.returncode != 0 and "rejected the API key" in r.stderr and "Traceback" not in r.stderr
    assert "sk_wrong_key" not in r.stderr


def test_voices_commands(env: dict[str, str]) -> None:
    assert cli(env, "voices", "refresh").returncode == 0
    listed = json.loads(cli(env, "voices", "list", "--json").stdout)
    assert {v["voice_id"] for v in listed} >= {"FAKEvoice000000000001", "joe-us"}
    r = cli(env, "voices", "set", "FAKEvoice000000000001", "--stability", "0.3", "--no-speaker-boost",
            "--default", "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["use_speaker_boost"] is False
    bad = cli(env, "voices", "set", "FAKEvoice000000000001", "--speed", "1.5")
    assert bad.returncode == 2 and "speed: 1.5 is outside 0.7–1.2" in bad.stderr
    quota = json.loads(cli(env, "voices", "quota", "--json").stdout)
    assert quota["remaining"] == quota["character_limit"] - quota["character_count"]
