"""Enhanced mode never waits on a database that does not answer (issue #20: "never slows a turn").

A turn's draw is the only database read before the LLM request (messages go to the background
recorder). A remote MariaDB that accepts the connection and then hangs (or an unroutable host)
used to cost every enhanced turn the 5 s connect timeout before the CSPRNG stood in.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from synthbot_desktop.randomness import pool
from synthbot_desktop.randomness.enhanced import sampling_for_turn
from synthbot_desktop.randomness.sources import OsSource
from synthbot_desktop.storage import migrate
from synthbot_desktop.storage import quantum as qrepo
from synthbot_desktop.storage.db import Database, make_engine
from synthbot_desktop.storage.models import QuantumRandomNumber


@pytest.fixture
def hung_mysql() -> Iterator[Database]:
    """A MySQL URL whose server accepts TCP connections and never sends its greeting."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    db = Database(make_engine(f"mysql+pymysql://root@127.0.0.1:{srv.getsockname()[1]}/test"))
    yield db
    stop.set()
    t.join(2)
    for c in held:
        c.close()
    srv.close()
    db.dispose()


def test_a_hung_database_falls_back_at_once_and_says_so(hung_mysql: Database) -> None:
    for turn in range(3):  # and the turns after it, while the server still hangs, do not queue behind it
        t0 = time.monotonic()
        choice = sampling_for_turn(hung_mysql, f"user-{turn}", "openai", 0.7)
        elapsed = time.monotonic() - t0
        assert elapsed < 1.0, f"turn {turn} waited {elapsed:.2f} s for the pool"
        assert choice.record["source"] == "os" and choice.seed is not None
        assert choice.notice is not None and "CSPRNG" in choice.notice
        assert "did not answer" in choice.record["fallback"] or "still" in choice.record["fallback"]


def test_a_block_taken_after_the_deadline_goes_back_to_the_pool(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """The late answer must not leave a block naming a message whose record says `os`."""
    engine = make_engine(f"sqlite:///{tmp_path / 'late.sqlite3'}")
    migrate.upgrade(engine)
    db = Database(engine)
    try:
        pool.fill(db, OsSource(), 128)
        real = qrepo.take_block

        def slow(s, consumer):  # type: ignore[no-untyped-def]
            time.sleep(0.6)
            return real(s, consumer)

        monkeypatch.setattr(qrepo, "take_block", slow)
        d = pool.draw(db, "late-user", timeout_s=0.1)
        assert d.source == "os" and d.block_id is None and "did not answer" in (d.fallback_reason or "")
        monkeypatch.setattr(qrepo, "take_block", real)
        deadline = time.monotonic() + 5
        while pool.draw_pending(db) and time.monotonic() < deadline:
            time.sleep(0.05)
        with db.session() as s:
            consumed = s.scalars(select(QuantumRandomNumber).where(QuantumRandomNumber.consumed_by.is_not(None))).all()
        assert consumed == []
        d2 = pool.draw(db, "next-user")  # the pool answers again: a pooled block, as before
        assert d2.source == "os" and d2.block_id is not None and d2.fallback_reason is None
    finally:
        db.dispose()
