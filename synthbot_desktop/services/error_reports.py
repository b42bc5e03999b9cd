"""Every error a person is shown also lands in ``error_logs`` (issue #18), redacted, filed under them.

One function for both front ends: the CLI calls :func:`report` where it prints an error line,
the GUI calls it from a pool job when it shows a banner (never on the GUI thread: it may write to
a remote server). Best effort by design: the error was already shown; a failure to file it must
not turn into a second error. But nothing is lost to an outage: a row the database cannot take
goes to the same durable spool as the recorder's messages and usage, and is replayed with them.
A remote database is only connected to when this process already opened it or from the
background writer (an unreachable server must not add a connect timeout to the error path); a
local SQLite file is opened for it.
"""

from __future__ import annotations

import datetime as dt
import logging
import queue
import threading
from typing import TYPE_CHECKING, Any

from synthbot_desktop.errors import SynthbotError
from synthbot_desktop.redaction import redact

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)


def kind_of(exc: BaseException) -> str:
    """A short class for the row: the provider error kind, else the error type's name."""
    kind = getattr(exc, "kind", None)
    if kind is not None:
        return str(kind)
    return type(exc).__name__ if isinstance(exc, SynthbotError) else "unexpected"


def _may_open(ctx: AppContext, connect: bool) -> bool:
    """Whether the row may go to the database now: one this process opened, a local SQLite file,
    or (``connect``) a remote server not opened yet. Otherwise it waits in the spool."""
    from synthbot_desktop.storage.db import is_sqlite

    return ctx.opened_db is not None or connect or is_sqlite(ctx.database_url())


def _spool(ctx: AppContext, unit: Any) -> None:
    from synthbot_desktop.storage.offline import OfflineSpool

    OfflineSpool(ctx.paths.spool_dir).write_now(unit)


def report(ctx: AppContext | None, source: str, message: str, *, kind: str | None = None,
           details: dict[str, Any] | None = None, connect: bool = False) -> bool:
    """File one row (blocking, best effort); True when it reached the database.

    When the database cannot take it now (unreachable, not opened by this process, or refusing
    this client until an upgrade) the row goes to the recorder's durable spool, in order with the
    turns spooled meanwhile, and is replayed once with them (its uid makes replays idempotent).
    ``connect`` lets it open a remote database this process has not opened yet (the background
    writer does; the CLI's exit path does not: an unreachable server must not delay the exit)."""
    if ctx is None:
        return False
    from synthbot_desktop.storage.recorder import WriteUnit
    from synthbot_desktop.storage.records import ErrorRecord

    unit = WriteUnit(errors=[ErrorRecord(source, redact(message), kind, details)])
    try:
        if _may_open(ctx, connect):
            try:
                writer = ctx.writer  # the recorder (replays older spooled writes first) or the spool
            except Exception:  # refused for another reason (password, schema): keep it for later
                log.debug("database refused the error row for now; spooling it", exc_info=True)
                _spool(ctx, unit)
                return False
            return bool(writer.write_now(unit))
        _spool(ctx, unit)
        return False
    except Exception:  # the error line was already shown; the row is a bonus
        log.debug("could not write or spool the error row", exc_info=True)
        return False


# One process, one AppContext (the CLI's command or the window): binding it here lets any place
# that shows an error file it without threading ``ctx`` through event sinks. Rows are written by
# one background thread, in order, so showing an error never waits on the database.
_BOUND: AppContext | None = None
_QUEUE: queue.Queue[tuple[str, str, str | None] | threading.Event] = queue.Queue()
_WORKER: threading.Thread | None = None
_WORKER_LOCK = threading.Lock()


def bind(ctx: AppContext | None) -> None:
    """Make ``ctx`` the context :func:`shown` files errors under (None unbinds)."""
    global _BOUND
    _BOUND = ctx


def _work() -> None:
    while True:
        item = _QUEUE.get()
        if isinstance(item, threading.Event):
            item.set()
            continue
        report(_BOUND, *item[:2], kind=item[2], connect=True)


def shown(source: str, message: str, kind: str | None = None) -> None:
    """An error was just shown to the person: file it in the background (never blocks the caller)."""
    global _WORKER
    if _BOUND is None:
        return
    with _WORKER_LOCK:
        if _WORKER is None or not _WORKER.is_alive():
            _WORKER = threading.Thread(target=_work, name="synthbot-error-log", daemon=True)
            _WORKER.start()
    _QUEUE.put((source, redact(message), kind))


def flush(timeout: float = 10.0) -> bool:
    """Wait until the errors :func:`shown` so far are written (before the process exits)."""
    if _WORKER is None or not _WORKER.is_alive():
        return True
    done = threading.Event()
    _QUEUE.put(done)
    return done.wait(timeout)


def report_exception(ctx: AppContext | None, source: str, exc: BaseException) -> bool:
    from synthbot_desktop.errors import describe

    return report(ctx, source, describe(exc), kind=kind_of(exc))


def errors_last_day(ctx: AppContext, now: dt.datetime | None = None) -> int:
    """How many errors were shown in the last 24 hours (all users this account may read)."""
    from synthbot_desktop.storage import error_log

    now = now or dt.datetime.now(dt.UTC)
    with ctx.db.session() as s:
        return error_log.count_since(s, now - dt.timedelta(hours=24))
