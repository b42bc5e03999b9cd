"""The fault tests call the CLI in-process many times (for speed); logging installs its console
handler once, on the sys.stderr of that moment, so each test starts and ends without it (otherwise a
later test's warning would be written to an earlier test's closed capture stream)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from synthbot_desktop import logging_setup


def _reset() -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_synthbot_console", False) or isinstance(handler, logging.FileHandler):
            root.removeHandler(handler)
            handler.close()
    logging_setup._CONFIGURED = False


@pytest.fixture(autouse=True)
def fresh_logging() -> Iterator[None]:
    _reset()
    yield
    _reset()
