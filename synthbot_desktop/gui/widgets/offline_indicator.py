""""offline: N records waiting": the window's sign that turns are kept in the local spool.

While the database server is unreachable, turns go to an fsynced spool on this computer and
are written when it answers again (``storage.recorder``). The person should know their words
are safe but not yet in the shared database, and see the sign go away once they are. The count
(``AppContext.pending_records``) reads a file, so it is asked on the thread pool, never on the
GUI thread, at most one request at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QWidget

from synthbot_desktop.gui.bridge import run_job

log = logging.getLogger(__name__)


def offline_text(count: int) -> str:
    return f"offline: {count} record{'s' if count != 1 else ''} waiting"


class OfflineIndicator(QLabel):
    """Hidden while nothing waits; polls ``count`` every ``interval_ms`` (and on :meth:`refresh`)."""

    def __init__(self, count: Callable[[], int], parent: QWidget | None = None, *, interval_ms: int = 3000) -> None:
        super().__init__("", parent)
        self.setObjectName("offline_indicator")
        self.setToolTip("The database server cannot be reached: these records are kept safely on this "
                        "computer and written when it answers again")
        self._count = count
        self._busy = False
        self._relay: object | None = None  # keeps the pending job's relay alive
        self.waiting = 0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.hide()
        self.refresh()

    def refresh(self) -> None:
        if self._busy:
            return
        self._busy = True
        self._relay = run_job(self._count, self._show, self._failed)

    def _show(self, count: object) -> None:
        self._busy = False
        self.waiting = int(count) if isinstance(count, int) else 0
        try:
            if self.waiting > 0:
                self.setText(offline_text(self.waiting))
                self.show()
            else:
                self.hide()
        except RuntimeError:  # the window closed while the count was on its way
            return

    def _failed(self, error: BaseException) -> None:
        self._busy = False
        log.debug("could not count spooled records: %s", type(error).__name__)

    def stop(self) -> None:
        self._timer.stop()
