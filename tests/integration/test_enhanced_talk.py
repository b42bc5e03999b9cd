"""`talk --mode enhanced` end to end (issue #20): real Whisper on jfk.flac, fake OpenAI, a pooled seed per turn."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import JFK
from tests.support.cli import cli_argv as _cli
from tests.support.cli import cli_env as _env
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_llm import base_url, start_fake_llm

pytestmark = [pytest.mark.slow]


def test_talk_enhanced_seeds_each_turn_from_the_pool(app_env: dict[str, str], tmp_path: Path) -> None:
    llm = start_fake_llm("openai", "A short answer.")
    tts = start_fake_elevenlabs()
    try:
        fakes = {"SYNTHBOT_OPENAI_BASE_URL": base_url("openai", llm), "SYNTHBOT_OPENAI_API_KEY": "sk-test-123",
                 "SYNTHBOT_ELEVENLABS_BASE_URL": tts.url, "SYNTHBOT_ELEVENLABS_API_KEY": FAKE_API_KEY}
        db_url = f"sqlite:///{tmp_path / 'talk.sqlite3'}"
        env = _env(app_env, fakes, db_url)
        fill = subprocess.run(_cli("quantum", "fill", "--source", "os", "--bits", "128"), env=env,
                              capture_output=True, text=True, timeout=120)
        assert fill.returncode == 0, fill.stderr
        proc = subprocess.run(_cli("talk", "--in", str(JFK), "--out", str(tmp_path / "r.wav"), "--provider", "openai",
                                   "--engine", "elevenlabs", "--mode", "enhanced", "--json"),
                              env=env, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        (rec,) = doc["randomness"]
        assert rec["source"] == "os" and rec["block_id"] is not None and rec["fallback"] is None
        sent = [r.json() for r in llm.requests if r.method == "POST"]
        assert sent[0]["seed"] == rec["seed"] and sent[0]["temperature"] == rec["temperature"]
        engine = create_engine(db_url)
        with engine.connect() as c:
            consumer = c.execute(text("SELECT consumed_by FROM quantum_random_numbers WHERE id = :i"),
                                 {"i": rec["block_id"]}).scalar()
        engine.dispose()
        # A new session has no id before its first message is written: the block names its uid.
        assert consumer == f"talk:{doc['session_uid']}:1"
    finally:
        llm.stop()
        tts.stop()
