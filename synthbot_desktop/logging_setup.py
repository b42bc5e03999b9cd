"""Logging goes to stderr (so `--json` stdout stays clean) and a rotating file, always redacted."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from synthbot_desktop.redaction import RedactingFilter, redact

_CONFIGURED = False


def configure_logging(level: int = logging.WARNING, log_dir: Path | None = None) -> None:
    """Install redacting handlers once; later calls only change the level."""
    global _CONFIGURED
    root = logging.getLogger()
    root.setLevel(min(level, logging.INFO) if log_dir else level)
    if _CONFIGURED:
        for handler in root.handlers:
            if getattr(handler, "_synthbot_console", False):
                handler.setLevel(level)
        return
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console.addFilter(RedactingFilter())
    console._synthbot_console = True  # type: ignore[attr-defined]
    root.addHandler(console)
    if log_dir is not None:
        try:
            log_dir.mkdir(parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                log_dir / "synthbot-desktop.log", maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
            file_handler.setLevel(logging.INFO)
            file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            file_handler.addFilter(RedactingFilter())
            root.addHandler(file_handler)
        except OSError as exc:
            logging.getLogger(__name__).warning("file logging disabled: %s", exc)
    # Third-party loggers that echo request headers at DEBUG go through the same filters.
    for noisy in ("httpx", "httpcore", "faster_whisper", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    _install_excepthook()
    _CONFIGURED = True


def _install_excepthook() -> None:
    previous = sys.excepthook

    def hook(exc_type, exc, tb):  # type: ignore[no-untyped-def]
        import traceback

        text = "".join(traceback.format_exception(exc_type, exc, tb))
        sys.stderr.write(redact(text))

    if previous is sys.__excepthook__:
        sys.excepthook = hook
