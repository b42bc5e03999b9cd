"""One spoken turn bills each provider call exactly once, through the window AND through `talk`.

The fake ElevenLabs and OpenAI servers count the requests they really answered; the usage table
must hold one row per request — no more (the window used to write two rows per spoken chunk:
one from the ElevenLabs provider's own usage sink, one from the turn engine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import create_engine, text

from synthbot_desktop.pipeline.events import TurnState
from tests.conftest import JFK, ROOT
from tests.gui.conftest import REPLY
from tests.support.fake_elevenlabs import FAKE_API_KEY

pytestmark = pytest.mark.gui


def _chat_calls(fake_llm: Any) -> int:
    return sum(1 for r in fake_llm.requests if r.method == "POST" and r.path.endswith("/chat/completions"))


def _usage_by_provider(rows: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for provider in rows:
        counts[provider] = counts.get(provider, 0) + 1
    return counts


def test_gui_typed_spoken_turn_bills_each_call_once(qtbot: Any, gui: Any, fake_llm: Any, fake_el: Any) -> None:
    w = gui.window
    with qtbot.waitSignal(gui.bridge.assistantDone, timeout=30000):
        qtbot.keyClicks(w.input, "What is the famous line?")
        qtbot.keyClick(w.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: w.state == TurnState.IDLE, timeout=15000)
    gui.ctx.recorder.flush()
    with gui.ctx.db.session() as s:
        # Every row in this test's own database: a double-billed row may carry no session id.
        rows = [r[0] for r in s.execute(text("SELECT provider FROM api_usage_logs"))]
    counts = _usage_by_provider(rows)
    spoken = [st for st in fake_el.state.streams if st.status == 200]
    assert len(spoken) >= 1 and _chat_calls(fake_llm) == 1
    assert counts.get("elevenlabs", 0) == len(spoken), (counts, len(spoken))
    assert counts.get("openai", 0) == _chat_calls(fake_llm)


@pytest.mark.slow
def test_cli_talk_spoken_turn_bills_each_call_once(gui_env: dict[str, str], fake_llm: Any, fake_el: Any,
                                                   tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHBOT_")}
    env.update(gui_env)
    env.update({"SYNTHBOT_OPENAI_API_KEY": "sk-test-openai-0000", "SYNTHBOT_ELEVENLABS_API_KEY": FAKE_API_KEY,
                "PYTHONPATH": str(ROOT)})
    out = tmp_path / "reply.wav"
    proc = subprocess.run([sys.executable, "-m", "synthbot_desktop", "talk", "--in", str(JFK), "--out", str(out),
                           "--provider", "openai", "--engine", "elevenlabs", "--json"],
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["reply"] == REPLY
    db = Path(gui_env["SYNTHBOT_DATA_DIR"])
    files = sorted(db.rglob("*.db")) + sorted(db.rglob("*.sqlite*"))
    assert files, list(db.rglob("*"))
    engine = create_engine(f"sqlite:///{files[0]}")
    with engine.connect() as c:
        rows = [r[0] for r in c.execute(text("SELECT provider FROM api_usage_logs"))]
        in_session = c.execute(text("SELECT COUNT(*) FROM api_usage_logs WHERE session_id = :s"),
                               {"s": doc["session_id"]}).scalar_one()
    engine.dispose()
    counts = _usage_by_provider(rows)
    spoken = [st for st in fake_el.state.streams if st.status == 200]
    assert len(spoken) >= 1 and _chat_calls(fake_llm) == 1
    assert counts.get("elevenlabs", 0) == len(spoken), (counts, len(spoken))
    assert counts.get("openai", 0) == 1
    assert counts.get("local-whisper", 0) == 1 and in_session == len(rows)
