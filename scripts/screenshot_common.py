"""What the screenshot scripts share (each is run as ``python scripts/<name>.py``, so this sits on
``sys.path`` beside them)."""

from __future__ import annotations

import time
from typing import Any


def pump(app: Any, seconds: float) -> None:
    """Let Qt run for ``seconds`` (paint, timers, queued signals) before a grab."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
