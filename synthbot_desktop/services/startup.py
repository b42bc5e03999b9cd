"""How a process comes up and goes down, in one order, for the window and the CLI alike.

Why here and not in a front end: the window used to own this ordering (a process-wide
``STARTUP_GATE`` event in ``gui/bridge.py`` that every pool job and the pipeline service waited
on while a thread opened the database), and the CLI had its own copy of the rest (error reports
bound first, a scheduled backup, then a bounded wait for both before the database closes). One
object now says what happens and in which order; the front ends only choose which steps they
want:

1. errors shown from now on are filed in ``error_logs`` (``error_reports.bind``);
2. storage opens (the window, in the background): database and schema, then the user's row
   (retention applies), then the recorder (the offline spool replays) — once, whatever thread
   asks first. An unreachable server is decided here once (``AppContext.reachable_db``), so the
   jobs that follow work offline at once instead of each paying a connect timeout;
3. a scheduled backup, if due, on its own thread;
4. at the end, queued error rows and a running backup get a bounded time to finish.

Nothing has to wait on step 2: ``AppContext`` builds each piece under its lock, so a job that
needs the database simply blocks until it is open, and a job that does not, does not wait.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)

#: The storage steps, in the order they run (``Startup.steps_done`` lists the ones that ran).
STORAGE_STEPS = ("database", "user", "recorder")


class Startup:
    """The start-up and shut-down sequence of one process over one :class:`AppContext`."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.steps_done: list[str] = []
        self.error: BaseException | None = None  # why storage could not open (the jobs report it too)
        self.offline = False  # the server could not be reached: the app works offline
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    def begin(self, *, open_storage: bool) -> Startup:
        """Steps 1 and 2. ``open_storage`` opens storage on a background thread (the window:
        its first page wants history at once); the CLI leaves it to the command, which may never
        need a database (``config``, ``devices``)."""
        from synthbot_desktop.services import error_reports

        error_reports.bind(self.ctx)
        if open_storage:
            self._thread = threading.Thread(target=self.open_storage, name="synthbot-startup", daemon=True)
            self._thread.start()
        else:
            self._ready.set()
        return self

    def open_storage(self) -> None:
        """Step 2, blocking: database, user, recorder. Never raises: a failure is kept in
        ``error`` and logged, and whichever job needs the database reports it to the user."""
        try:
            db = self.ctx.reachable_db()  # opens the database and the user's row, or decides offline
            if db is None:
                self.offline = True
                return
            self.steps_done.append("database")
            _ = self.ctx.user_id
            self.steps_done.append("user")
            _ = self.ctx.recorder
            self.steps_done.append("recorder")
        except Exception as exc:
            self.error = exc
            log.warning("start-up: storage did not open: %s", exc)
        finally:
            self._ready.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once storage has opened, failed or was never asked for."""
        return self._ready.wait(timeout)

    def start_backup(self) -> threading.Thread | None:
        """Step 3: a scheduled backup if one is due (its own thread; the caller does not wait)."""
        from synthbot_desktop.services import backups

        return backups.start_if_due(self.ctx)

    def finish(self, *, errors_timeout: float = 10.0, backup_timeout: float = 120.0) -> None:
        """Step 4: let queued error rows and a running backup finish (bounded), then stop filing
        errors against this context. Call before ``AppContext.close``."""
        from synthbot_desktop.services import backups, error_reports

        try:
            error_reports.flush(errors_timeout)
            if not backups.wait(backup_timeout):
                log.warning("the scheduled backup did not finish; it is retried at the next start")
        finally:
            error_reports.bind(None)
