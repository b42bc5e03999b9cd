"""SIGKILL at 24 distinct points of a voice turn (issue #14): the database stays consistent, no
session is left without a message, and usage is recorded as it happens.

Each run is a child process (``tests/fault/kill_turn.py``) doing one turn of a NEW conversation
through the app's own wiring: a transcript's usage row, a streamed LLM reply from a fake Ollama
(paced, ~1 s) and one fake ElevenLabs request per sentence. A reference run measures the turn;
the other runs are killed at evenly spread offsets after ``turn-start`` (from the first provider
call to after the end-of-turn write), alternating SQLite and MariaDB. After each kill the next
command (here: opening the app) replays the spool, and the test checks:

* SQLite ``PRAGMA integrity_check`` is ``ok``, MariaDB ``CHECK TABLE`` is ``OK`` for every table;
* every usage row the child reported durable (its call had ended) is in ``api_usage_logs``;
* no conversation session without a message, user and assistant messages in pairs, no duplicate;
* a run that finished has all its usage rows linked to its messages.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from synthbot_desktop.storage.models import ApiUsageLog, Base, ConversationMessage, ConversationSession
from tests.conftest import ROOT
from tests.support.fake_elevenlabs import FAKE_API_KEY, start_fake_elevenlabs
from tests.support.fake_http import FakeServer
from tests.support.fake_llm import base_url, install_fake_llm

KILL_POINTS = 24
REPLY = ("The sea covers most of the planet. It holds almost all of its water. "
         "Its deepest point is eleven kilometres down. Waves carry energy, not water.")


class Child:
    """The turn process, with its stdout lines time-stamped as they arrive."""

    def __init__(self, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.fault.kill_turn"], env=env, cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append((time.monotonic(), line.strip()))
                self._cond.notify_all()
        with self._cond:
            self.lines.append((time.monotonic(), "<eof>"))
            self._cond.notify_all()

    def wait_line(self, word: str, timeout: float = 60.0) -> float:
        with self._cond:
            ok = self._cond.wait_for(lambda: any(w in (word, "<eof>") for _, w in self.lines), timeout)
        assert ok, f"the child never printed {word!r}"
        stamp = next(t for t, w in self.lines if w in (word, "<eof>"))
        if not any(w == word for _, w in self.lines):
            err = self.proc.stderr.read() if self.proc.stderr else ""
            raise AssertionError(f"the child ended before {word!r}: {err[-2000:]}")
        return stamp

    def durable(self) -> set[str]:
        with self._cond:
            return {w.split()[1] for _, w in self.lines if w.startswith("durable ")}

    def said(self, word: str) -> bool:
        with self._cond:
            return any(w == word for _, w in self.lines)


@pytest.fixture
def fakes() -> Iterator[dict[str, str]]:
    llm = FakeServer()
    llm.start()
    install_fake_llm(llm, "ollama", REPLY, first_token_delay=0.15, tokens_per_second=40)
    tts = start_fake_elevenlabs(first_byte_delay=0.05, chunk_delay=0.01)
    try:
        yield {"SYNTHBOT_OLLAMA_BASE_URL": base_url("ollama", llm), "SYNTHBOT_ELEVENLABS_BASE_URL": tts.url,
               "SYNTHBOT_ELEVENLABS_API_KEY": FAKE_API_KEY}
    finally:
        llm.stop()
        tts.stop()


def _env(tmp: Path, fakes: dict[str, str], db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHBOT_")}
    env.update(fakes)
    env.update({"SYNTHBOT_CONFIG_DIR": str(tmp / "config"), "SYNTHBOT_DATA_DIR": str(tmp / "data"),
                "SYNTHBOT_DATABASE_URL": db_url, "SYNTHBOT_SET__database__auto_upgrade_remote": "true",
                "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring", "PYTHONPATH": str(ROOT)})
    return env


def _replay(env: dict[str, str]) -> None:
    """What the next command does first: open the database, which replays the spool."""
    code = ("from synthbot_desktop.app import AppContext\n"
            "c = AppContext(); c.db; n = c.pending_records(); c.close(); assert n == 0, n\n")
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def _check(url: str, durable: set[str], finished: bool) -> dict[str, Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if engine.dialect.name == "sqlite":
                assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            else:
                for table in Base.metadata.sorted_tables:
                    for row in conn.execute(text(f"CHECK TABLE `{table.name}`")):
                        if row[2] == "status":
                            assert row[3] == "OK", f"{table.name}: {row}"
        with Session(engine) as s:
            stored = set(s.scalars(select(ApiUsageLog.uid)))
            assert durable <= stored, f"usage rows lost: {durable - stored}"
            empty = s.scalar(select(func.count()).select_from(ConversationSession).where(
                ~ConversationSession.messages.any()))
            assert empty == 0, "a session without any message was left behind"
            roles = list(s.execute(select(ConversationMessage.role, func.count()).group_by(ConversationMessage.role)))
            counts = dict(roles)  # type: ignore[arg-type]
            assert counts.get("user", 0) == counts.get("assistant", 0)
            if finished:
                unlinked = s.scalar(select(func.count()).select_from(ApiUsageLog).where(
                    ApiUsageLog.uid.in_(durable), ApiUsageLog.message_id.is_(None)))
                assert unlinked == 0, "a finished turn's usage rows are not linked to its messages"
            return {"sessions": s.scalar(select(func.count()).select_from(ConversationSession)),
                    "usage": len(stored)}
    finally:
        engine.dispose()


@pytest.mark.mysql
def test_sigkill_at_24_points_of_a_turn(tmp_path: Path, fakes: dict[str, str], mysql_url: str) -> None:
    urls = {"sqlite": f"sqlite:///{tmp_path / 'kill.sqlite3'}", "mysql": mysql_url}
    envs = {name: _env(tmp_path / name, fakes, url) for name, url in urls.items()}

    # Reference: a whole turn, to spread the kill points over it.
    ref = Child(envs["sqlite"])
    start = ref.wait_line("turn-start")
    end = ref.wait_line("flushed")
    assert ref.proc.wait(60) == 0
    turn_s = end - start
    assert len(ref.durable()) >= 4  # transcript + LLM + at least two spoken sentences
    finished_runs = 1
    _check(urls["sqlite"], ref.durable(), finished=True)

    killed = 0
    for i in range(KILL_POINTS):
        name = "sqlite" if i % 2 == 0 else "mysql"
        offset = turn_s * 1.1 * i / (KILL_POINTS - 1)  # from the first call to after the final write
        child = Child(envs[name])
        t0 = child.wait_line("turn-start")
        while time.monotonic() < t0 + offset and child.proc.poll() is None:
            time.sleep(0.002)  # the kill point itself, not a wait for a condition
        if child.proc.poll() is None:
            child.proc.send_signal(signal.SIGKILL)
            killed += 1
        child.proc.wait(30)
        finished = child.said("flushed")
        finished_runs += finished
        _replay(envs[name])
        _check(urls[name], child.durable(), finished)
    assert killed >= 20, f"only {killed} of {KILL_POINTS} runs were still running at their kill point"
    print(f"\nSIGKILL: {killed} kills at {KILL_POINTS} points over a {turn_s:.2f} s turn, "
          f"{finished_runs} finished runs; consistency and usage completeness held")
