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

# Commands that count as "the app starting" for scheduled backups (database.backup.every_hours):
# the conversation commands, not the ones that administer, diagnose or restore the database.
BACKUP_AT_START = frozenset({"chat", "talk", "history", "memory", "usage"})


COMMANDS: dict[str, tuple[str, str]] = {
    # command -> (module in cli/commands, one-line help). Why a table: `--help` and the bare
    # `synthbot-desktop` (the window) must not import every command module, because those pull in
    # SQLAlchemy, Alembic, numpy and httpx (1.5 s here). Only the chosen command's module is imported.
    # tests/unit/test_cli_lazy.py checks this table against each module's own register().
    "admin": ("admin", "fleet administration: grants, usage report, feature flags, error log"),
    "audio": ("devices", "audio devices (list inputs and outputs)"),
    "chat": ("chat", "send TEXT to the LLM, stream the reply and store the turn"),
    "config": ("config_cmd", "show and change settings"),
    "data": ("data", "your data: export all of it, or delete all of it"),
    "db": ("db", "database schema: upgrade, current, downgrade"),
    "doctor": ("doctor", "check config, database, keyring, audio, models, providers"),
    "history": ("history", "past conversations: list, search, show, tag, note, rate, export, import, delete"),
    "keys": ("keys", "API keys in the OS keyring"),
    "listen": ("listen", "record one utterance from the microphone and transcribe it"),
    "mcp": ("mcp", "MCP servers whose tools the assistant can use"),
    "memory": ("memory", "facts the assistant remembers for you across sessions"),
    "models": ("models", "list the models of the LLM providers"),
    "quantum": ("quantum", "quantum randomness pool for `chat/talk --mode enhanced`"),
    "speak": ("speak", "say TEXT with ElevenLabs or the offline Piper voice"),
    "talk": ("talk", "voice turns: speech in, spoken answer out (headless)"),
    "transcribe": ("transcribe", "transcribe audio files (wav, flac, mp3, ogg, ...) with the local Whisper model"),
    "usage": ("usage", "tokens, characters, audio minutes and cost per provider/model/day"),
    "voices": ("voices", "voice catalog, quota and your voice tuning"),
}


def _chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand word in ``argv``: the first token that is not an option (top-level options take no value)."""
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The CLI parser; with ``argv``, only the command named there is fully registered.

    Other commands get a placeholder (name and help only), so ``--help`` lists them all and a typo
    still gets argparse's "invalid choice" list. A command module that is missing from COMMANDS
    (added without updating the table) is always imported: slower, never lost. ``argv=None``
    registers every command for real (tests, docs).
    """
    parser = argparse.ArgumentParser(
        prog=APP_NAME,
        description="SynthBot Desktop voice assistant. Without a command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output on stderr")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    from synthbot_desktop.cli import commands

    chosen = None if argv is None else _chosen_command(argv)
    indexed = {module for module, _ in COMMANDS.values()}
    wanted = {info.name for info in pkgutil.iter_modules(commands.__path__)}
    if argv is not None:
        wanted = (wanted - indexed) | ({COMMANDS[chosen][0]} if chosen in COMMANDS else set())
    registered: set[str] = set()
    for name in sorted(wanted):
        module = importlib.import_module(f"{commands.__name__}.{name}")
        register = getattr(module, "register", None)
        if register is not None:
            before = set(subparsers.choices)
            register(subparsers)
            registered |= set(subparsers.choices) - before
    for command, (_, help_text) in sorted(COMMANDS.items()):
        if command not in registered:
            subparsers.add_parser(command, help=help_text, description=help_text)
    subparsers._choices_actions.sort(key=lambda action: action.dest)  # --help lists commands alphabetically
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    if args_in == ["--version"]:  # answered before the command modules (and SQLAlchemy) are imported
        print(f"{APP_NAME} {__version__}")
        return 0
    parser = build_parser(args_in)
    args = parser.parse_args(args_in)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    configure_logging(level)
    if args.command is None:
        return gui_main()
    from synthbot_desktop.app import AppContext

    ctx = None
    startup = None
    try:
        ctx = AppContext()
        configure_logging(level, ctx.paths.log_dir)
        from synthbot_desktop.services.startup import Startup

        # Errors a command shows and goes on are filed too (issue #18); the command opens the
        # database itself if it needs one.
        startup = Startup(ctx).begin(open_storage=False)
        if args.command in BACKUP_AT_START:
            startup.start_backup()  # in the background: the command does not wait for it
        return int(args.func(ctx, args))
    except SynthbotError as exc:
        line = redact(exc.one_line())
        sys.stderr.write(f"error: {line}\n")
        _log_error_row(ctx, getattr(args, "command", None) or "cli", line, kind=_kind(exc))
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
            if startup is not None:
                startup.finish()  # queued error rows and a running backup, before the database closes
            try:
                ctx.close()
            except Exception:  # closing must not mask the command's own result
                log.debug("error while closing", exc_info=True)


def _kind(exc: SynthbotError) -> str:
    from synthbot_desktop.services.error_reports import kind_of

    return kind_of(exc)


def _log_error_row(ctx: AppContext | None, command: str, line: str, kind: str = "unexpected") -> None:
    """Best effort: every error shown is a row in error_logs (issue #18; services.error_reports).

    A local SQLite file is opened for it; a remote server only if the command had opened it
    already (an unreachable server must not delay the exit)."""
    from synthbot_desktop.services.error_reports import report

    report(ctx, f"cli.{command}", line, kind=kind)


def gui_main() -> int:
    """Open the desktop app, or explain in one line why it cannot open here."""
    from synthbot_desktop.gui_launcher import launch

    return launch()


if __name__ == "__main__":
    raise SystemExit(main())
