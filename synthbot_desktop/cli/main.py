"""Entry point: no subcommand opens the desktop app; subcommands run headless."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from synthbot_desktop import APP_NAME, __version__
from synthbot_desktop.errors import SynthbotError
from synthbot_desktop.logging_setup import configure_logging
from synthbot_desktop.redaction import redact

if TYPE_CHECKING:
    from synthbot_desktop.app import AppContext

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="SynthBot Desktop voice assistant. Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from synthbot_desktop.cli import commands

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in == ["--version"]:  # answered before the command modules (and SQLAlchemy) are imported
        print(f"{APP_NAME} {__version__}")
        return 0
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    configure_logging(level)
    if args.command is None:
        return gui_main()
    from synthbot_desktop.app import AppContext

    ctx = None
    try:
        ctx = AppContext()
        configure_logging(level, ctx.paths.log_dir)
        return int(args.func(ctx, args))
    except SynthbotError as exc:
        sys.stderr.write(f"error: {redact(exc.one_line())}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # one top-level handler: a bug is one redacted line, never a traceback
        log.debug("unexpected error", exc_info=True)
        line = redact(f"{type(exc).__name__}: {exc}".splitlines()[0] if str(exc) else type(exc).__name__)
        sys.stderr.write(f"error: unexpected failure ({line}); details are in the log file\n")
        _log_error_row(ctx, getattr(args, "command", None) or "cli", line)
        return 1
    finally:
        if ctx is not None:
            try:
                ctx.close()
            except Exception:  # closing must not mask the command's own result
                log.debug("error while closing", exc_info=True)


def _log_error_row(ctx: AppContext | None, command: str, line: str) -> None:
    """Best effort: a row in error_logs when the database is already open and answering.

    A local SQLite file is opened for it; a remote server only if the command had opened it
    already (an unreachable server must not delay the exit)."""
    if ctx is None:
        return
    try:
        from synthbot_desktop.storage import repositories as repo
        from synthbot_desktop.storage.db import is_sqlite

        db = ctx._db if ctx._db is not None or not is_sqlite(ctx.database_url()) else ctx.db
        if db is None:
            return
        with db.session() as s:
            repo.add_error(s, f"cli.{command}", line, kind="unexpected")
    except Exception:  # the error line was already printed; the row is a bonus
        log.debug("could not write the error row", exc_info=True)


def gui_main() -> int:
    """Open the desktop app, or explain in one line why it cannot open here."""
    from synthbot_desktop.gui_launcher import launch

    return launch()


if __name__ == "__main__":
    raise SystemExit(main())
