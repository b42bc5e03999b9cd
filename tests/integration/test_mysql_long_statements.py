"""Maintenance work on a shared MariaDB is not cut off by the bound a turn may wait (issue #14 audit).

Every MySQL read is bounded (``io_timeout``: 5 s at least) so a half-open server cannot hang a
command; an ALTER or index build on a big shared table during ``db upgrade`` or a backup takes longer,
and was cut off mid-statement at 5 s. ``long_statements`` lifts the bound for one connection only.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from synthbot_desktop.storage.db import long_statements, make_engine

pytestmark = pytest.mark.mysql


def test_a_long_statement_runs_to_the_end_only_inside_long_statements(mysql_url: str) -> None:
    engine = make_engine(mysql_url, connect_timeout=2)
    try:
        with engine.connect() as conn, long_statements(conn):
            assert conn.execute(text("SELECT SLEEP(6)")).scalar() == 0  # a 6 s "ALTER" completes
        t0 = time.monotonic()
        with engine.connect() as conn, pytest.raises(OperationalError) as err:  # the same pooled connection
            conn.execute(text("SELECT SLEEP(8)"))
        assert err.value.orig.args[0] == 2013 and time.monotonic() - t0 < 7.5  # the bound is back
    finally:
        engine.dispose()


def test_sqlite_connections_pass_through(tmp_path: object) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.sqlite3")
    with engine.connect() as conn, long_statements(conn):
        assert conn.execute(text("SELECT 1")).scalar() == 1
    engine.dispose()
