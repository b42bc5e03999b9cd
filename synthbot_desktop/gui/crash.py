"""The window's top-level handler (issue #14): a bug in code the GUI thread runs (a slot, a timer,
an event handler) becomes a redacted banner line and an ``error_logs`` row, and the window stays
open. Without it PySide6 printed the traceback on stderr and the person saw nothing.

Worker-thread jobs report through ``bridge.run_job``'s error callback and turns through
``pipeline_service.error_event``; this covers what neither sees."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from types import TracebackType
from typing import Any

from synthbot_desktop.errors import describe

log = logging.getLogger(__name__)


def _first_line(exc: BaseException) -> str:
    lines = describe(exc).splitlines()
    return lines[0] if lines else type(exc).__name__


def install_exception_hook(window: Any) -> Callable[[], None]:
    """Route uncaught exceptions to ``window.banner``; returns a function that restores the
    previous hook (the window calls it when it closes)."""
    previous = sys.excepthook

    def hook(etype: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(etype, KeyboardInterrupt | SystemExit):
            previous(etype, exc, tb)
            return
        log.error("unexpected error in the window", exc_info=(etype, exc, tb))  # the traceback: log file only
        try:
            # show_error files it in error_logs (redacted, off the GUI thread)
            window.banner.show_error(f"unexpected problem: {_first_line(exc)}", "details are in the log file")
        except Exception:  # the window is going away: the log has it
            log.debug("could not show an unexpected error", exc_info=True)

    sys.excepthook = hook

    def restore() -> None:
        if sys.excepthook is hook:
            sys.excepthook = previous

    return restore
