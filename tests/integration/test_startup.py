"""The start-up sequence both front ends use (services/startup.py), without Qt.

It replaced the window's global STARTUP_GATE: nothing waits on a gate any more, so what has to
hold is that the context builds each piece once, in order, whatever threads ask at the same time,
and that an unreachable server is decided once instead of costing every job a connect timeout.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from synthbot_desktop.app import AppContext
from synthbot_desktop.services import error_reports, history_retention
from synthbot_desktop.services.startup import STORAGE_STEPS, Startup
from synthbot_desktop.storage.models import ErrorLog, User


def test_storage_opens_once_in_order_while_jobs_ask_for_the_user(ctx: AppContext,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    retention_runs: list[int] = []

    def slow_retention(_ctx: Any, user_id: int | None = None) -> list[int]:
        retention_runs.append(user_id or 0)
        time.sleep(0.05)  # widens the window in which a second thread would compute the id again
        return []

    monkeypatch.setattr(history_retention, "apply_from_settings", slow_retention)
    assert ctx.opened_db is None  # nothing opened before start-up asks
    startup = Startup(ctx).begin(open_storage=True)
    barrier = threading.Barrier(4)
    seen: list[int] = []

    def job() -> None:  # what the window's first pool jobs do
        barrier.wait()
        seen.append(ctx.user_id)

    jobs = [threading.Thread(target=job) for _ in range(4)]
    for t in jobs:
        t.start()
    for t in jobs:
        t.join(10)
    assert startup.wait(10)

    assert startup.error is None and not startup.offline
    assert startup.steps_done == list(STORAGE_STEPS)
    assert len(retention_runs) == 1, retention_runs  # one user id, computed once (retention ran once)
    assert len(set(seen)) == 1 and len(seen) == 4
    db = ctx.opened_db
    assert db is not None
    with db.session() as s:
        assert [u.id for u in s.scalars(select(User))] == seen[:1]
    startup.finish()


def test_errors_are_filed_from_begin_until_finish(ctx: AppContext) -> None:
    startup = Startup(ctx).begin(open_storage=False)
    assert startup.wait(0)  # nothing to wait for: the command opens storage itself
    assert ctx.opened_db is None
    error_reports.shown("cli.test", "shown while started")
    startup.finish()
    error_reports.shown("cli.test", "shown after finish")  # no context bound: not filed
    assert error_reports.flush(5)
    db = ctx.opened_db
    assert db is not None  # a local SQLite file is opened for the row
    with db.session() as s:
        assert list(s.scalars(select(ErrorLog.message))) == ["shown while started"]


def test_an_unreachable_server_is_decided_once(app_env: dict[str, str], memory_keyring: object,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNTHBOT_SET__database__url", "mysql+pymysql://nobody@127.0.0.1:1/nothing?charset=utf8mb4")
    ctx = AppContext()
    connects: list[str] = []
    real_open = ctx.open_database

    def counting_open(url: str | None = None) -> Any:
        connects.append(url or "")
        time.sleep(0.05)  # a connect timeout, shortened: the jobs below arrive while it runs
        return real_open(url)

    monkeypatch.setattr(ctx, "open_database", counting_open)
    try:
        startup = Startup(ctx).begin(open_storage=True)
        verdicts: list[object] = []
        jobs = [threading.Thread(target=lambda: verdicts.append(ctx.reachable_db())) for _ in range(4)]
        for t in jobs:
            t.start()
        for t in jobs:
            t.join(10)
        assert startup.wait(10)
        assert verdicts == [None] * 4
        assert startup.offline and startup.steps_done == [] and startup.error is None
        assert ctx.offline_reason is not None
        assert [ctx.reachable_db() for _ in range(3)] == [None, None, None]  # the jobs that follow
        assert len(connects) == 1
        startup.finish()
    finally:
        ctx.close()
