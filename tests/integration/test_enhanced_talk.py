"""`talk --mode enhanced` end to end (issue #20): real Whisper on jfk.flac, fake OpenAI, a pooled seed per turn.

The randomness record must land on the assistant message (``timings["randomness"]``) and the
consumed block must name the user message, exactly as ``chat --mode enhanced`` does; both are
checked on SQLite and a fresh MariaDB database.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import ConversationMessage, QuantumRandomNumber
from tests.conftest import JFK
from tests.support.cli import cli_argv as _cli
from tests.support.cli import cli_env as _env
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_llm import base_url, start_fake_llm

pytestmark = [pytest.mark.slow]


def _messages_and_block(db_url: str, block_id: int) -> tuple[list[ConversationMessage], QuantumRandomNumber | None]:
    engine = create_engine(db_url)
    try:
        with Session(engine) as s:
            msgs = list(s.scalars(select(ConversationMessage).order_by(ConversationMessage.id)).all())
            block = s.get(QuantumRandomNumber, block_id)
            s.expunge_all()
        return msgs, block
    finally:
        engine.dispose()


def test_talk_enhanced_stores_the_record_on_the_assistant_message(app_env: dict[str, str], tmp_path: Path,
                                                                  any_db_url: str) -> None:
    llm = start_fake_llm("openai", "A short answer.")
    tts = start_fake_elevenlabs()
    try:
        fakes = {"SYNTHBOT_OPENAI_BASE_URL": base_url("openai", llm), "SYNTHBOT_OPENAI_API_KEY": "sk-test-123",
                 "SYNTHBOT_ELEVENLABS_BASE_URL": tts.url, "SYNTHBOT_ELEVENLABS_API_KEY": FAKE_API_KEY,
                 # about the pooled record, not the 300 ms deadline (its own tests): no fallback under load
                 "SYNTHBOT_SET__quantum__pool_wait_ms": "10000"}
        env = _env(app_env, fakes, any_db_url)
        fill = subprocess.run(_cli("quantum", "fill", "--source", "os", "--bits", "128"), env=env,
                              capture_output=True, text=True, timeout=120)
        assert fill.returncode == 0, fill.stderr
        proc = subprocess.run(_cli("talk", "--in", str(JFK), "--out", str(tmp_path / "r.wav"), "--provider", "openai",
                                   "--engine", "elevenlabs", "--mode", "enhanced", "--json"),
                              env=env, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr
        doc = json.loads(proc.stdout)
        assert isinstance(doc["assistant_message_id"], int)  # #17: the id `history rate` takes
        (rec,) = doc["randomness"]
        assert doc["randomness"][0] == doc["randomness"][-1] == rec
        assert rec["source"] == "os" and rec["block_id"] is not None and rec["fallback"] is None
        assert rec["seed_supported"] is True and rec["mode"] == "enhanced"
        sent = [r.json() for r in llm.requests if r.method == "POST"]
        assert sent[0]["seed"] == rec["seed"] and sent[0]["temperature"] == rec["temperature"]
        msgs, block = _messages_and_block(any_db_url, rec["block_id"])
        user, assistant = msgs
        assert user.role == "user" and assistant.role == "assistant"
        assert user.uid == doc["user_message_uid"] and assistant.uid == doc["assistant_message_uid"]
        assert assistant.timings is not None and assistant.timings["randomness"] == rec
        assert "first_token" in assistant.timings  # the turn timings are still there beside it
        assert "randomness" not in (user.timings or {})
        assert block is not None and block.consumed_by == user.uid  # as `chat --mode enhanced` names it
    finally:
        llm.stop()
        tts.stop()


def test_talk_enhanced_on_an_empty_pool_says_so_and_still_records(app_env: dict[str, str], tmp_path: Path) -> None:
    llm = start_fake_llm("openai", "A short answer.")
    try:
        fakes = {"SYNTHBOT_OPENAI_BASE_URL": base_url("openai", llm), "SYNTHBOT_OPENAI_API_KEY": "sk-test-123"}
        db_url = f"sqlite:///{tmp_path / 'talk.sqlite3'}"
        env = _env(app_env, fakes, db_url)
        proc = subprocess.run(_cli("talk", "--in", str(JFK), "--out", str(tmp_path / "r.wav"), "--provider", "openai",
                                   "--engine", "piper", "--mode", "enhanced", "--json"),
                              env=env, capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr
        (rec,) = json.loads(proc.stdout)["randomness"]
        assert rec["source"] == "os" and rec["block_id"] is None and rec["fallback"]
        assert proc.stderr.count("using the OS CSPRNG") == 1, proc.stderr
        msgs, _ = _messages_and_block(db_url, 0)
        assert msgs[-1].role == "assistant" and msgs[-1].timings["randomness"] == rec  # type: ignore[index]
    finally:
        llm.stop()
