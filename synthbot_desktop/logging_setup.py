"""Logging goes to stderr (so `--json` stdout stays clean) and a rotating file, always redacted."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

from synthbot_desktop.redaction import RedactingFilter, redact

_CONFIGURED = False


def _add_file_handler(root: logging.Logger, log_dir: Path) -> None:
    """The redacted log file, once per process (a second call with the same dir is a no-op)."""
    target = str((log_dir / "synthbot-desktop.log").absolute())
    for h in list(root.handlers):
        if getattr(h, "_synthbot_file", False):
            if getattr(h, "baseFilename", None) == target:
                return
            root.removeHandler(h)  # one log file per process: the one of the current data dir
            h.close()
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(target, maxBytes=2_000_000, backupCount=3,
                                                            encoding="utf-8")
        file_handler.setLevel(logging.INFO)
        file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        file_handler.addFilter(RedactingFilter())
        file_handler._synthbot_file = True  # type: ignore[attr-defined]
        root.addHandler(file_handler)
    except OSError as exc:
        logging.getLogger(__name__).warning("file logging disabled: %s", exc)


def configure_logging(level: int = logging.WARNING, log_dir: Path | None = None) -> None:
    """Install redacting handlers once; later calls only change the level."""
    global _CONFIGURED
    root = logging.getLogger()
    root.setLevel(min(level, logging.INFO) if log_dir else level)
    if _CONFIGURED:
        for handler in root.handlers:
            if getattr(handler, "_synthbot_console", False):
                handler.setLevel(level)
        if log_dir is not None:  # the CLI configures the console first, the file once it knows the dirs
            _add_file_handler(root, log_dir)
        return
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(level)
    console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    console.addFilter(RedactingFilter())
    console._synthbot_console = True  # type: ignore[attr-defined]
    root.addHandler(console)
    if log_dir is not None:
        _add_file_handler(root, log_dir)
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
