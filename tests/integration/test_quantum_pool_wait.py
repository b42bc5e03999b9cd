"""`quantum.pool_wait_ms`: how long an enhanced turn waits for the pool (issue #20).

The 300 ms default is right for a local SQLite file or a MySQL server on the LAN, but a distant
server that answers in 400 ms would make every enhanced turn fall back to the CSPRNG; and a CI
proof run saw a local draw miss the fixed deadline once under load (`chat` reported `os`). The
setting must reach every turn path: `chat` and the sampler that `talk` and the window build.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from synthbot_desktop.cli.main import main
from synthbot_desktop.config import Settings
from synthbot_desktop.randomness import pool
from synthbot_desktop.randomness.enhanced import TurnSampler
from synthbot_desktop.randomness.sources import OsSource
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import quantum as qrepo
from synthbot_desktop.storage.db import Database, make_engine
from tests.support.fake_http import FakeServer
from tests.support.fake_llm import base_url, install_fake_llm

KEY = "sk-INTEGRATIONsecretKEY0123456789abcdef"
SLOW_S = 0.6  # a pool read that takes longer than the default deadline and less than the raised one


@pytest.fixture
def slow_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    real = qrepo.take_block

    def slow(s: Any, consumer: str) -> Any:
        time.sleep(SLOW_S)
        return real(s, consumer)

    monkeypatch.setattr(qrepo, "take_block", slow)


def _filled(url: str) -> None:
    engine = make_engine(url)
    migrate.upgrade(engine)
    db = Database(engine)
    pool.fill(db, OsSource(), 256)
    db.dispose()


def test_chat_waits_for_the_pool_as_long_as_the_setting_says(app_env: dict[str, str], memory_keyring: object,
                                                             tmp_path: Path, slow_pool: None,
                                                             monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'wait.sqlite3'}"
    monkeypatch.setenv("SYNTHBOT_DATABASE_URL", url)
    monkeypatch.setenv("SYNTHBOT_OPENAI_API_KEY", KEY)
    _filled(url)
    with FakeServer() as server:
        install_fake_llm(server, "openai", "Fine.")
        monkeypatch.setenv("SYNTHBOT_OPENAI_BASE_URL", base_url("openai", server))
        assert main(["chat", "Hi", "--provider", "openai", "--mode", "enhanced", "--json"]) == 0
        first = json.loads(capsys.readouterr().out)["randomness"]
        assert first["source"] == "os" and "did not answer within 300 ms" in first["fallback"]

        monkeypatch.setenv("SYNTHBOT_SET__quantum__pool_wait_ms", "3000")
        assert main(["chat", "Hi again", "--provider", "openai", "--mode", "enhanced", "--json"]) == 0
        second = json.loads(capsys.readouterr().out)["randomness"]
        assert second["source"] == "os" and second["block_id"] is not None and second["fallback"] is None


def test_the_talk_and_window_sampler_reads_the_setting(tmp_path: Path, slow_pool: None) -> None:
    url = f"sqlite:///{tmp_path / 'sampler.sqlite3'}"
    _filled(url)
    db = Database(make_engine(url))
    try:
        env = {"SYNTHBOT_CONFIG_DIR": str(tmp_path / "cfg"), "SYNTHBOT_DATA_DIR": str(tmp_path / "data")}
        default = TurnSampler.from_settings(db, "openai", Settings.load(env))("user-1", None)
        assert default.record["block_id"] is None and "within 300 ms" in (default.notice or "")
        while pool.draw_pending(db):
            time.sleep(0.05)
        raised = Settings.load({**env, "SYNTHBOT_SET__quantum__pool_wait_ms": "3000"})
        sampler = TurnSampler.from_settings(db, "openai", raised)
        turn = sampler("user-2", None)
        assert turn.record["block_id"] is not None and turn.notice is None
        assert turn.temperature == pytest.approx(turn.record["temperature"])
        assert abs(turn.record["base_temperature"] - raised.get_float("llm.temperature")) < 1e-9
    finally:
        db.dispose()
