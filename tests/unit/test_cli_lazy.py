"""`synthbot-desktop --help` (and the bare command that opens the window) imports nothing heavy (#12).

The command modules pull in SQLAlchemy, Alembic, numpy, httpx...; cli/main.py keeps a table of
commands so only the chosen command's module is imported. These tests check the imports of a
real `python -m synthbot_desktop --help` process and that the table cannot drift from the modules.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

from synthbot_desktop.cli import commands
from synthbot_desktop.cli.main import COMMANDS, build_parser

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlalchemy", "alembic", "faster_whisper", "ctranslate2", "numpy", "httpx", "keyring", "PySide6",
         "sounddevice", "qiskit", "onnxruntime", "pymysql", "synthbot_desktop.app", "synthbot_desktop.storage")


_CHILD = """
import sys
from synthbot_desktop.cli.main import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
sys.stderr.write("\\nMODULES " + " ".join(sorted(sys.modules)) + "\\n")
raise SystemExit(code)
"""


def _imported_modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run the real entry point in a fresh interpreter and return what it had imported at the end."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    line = next(x for x in proc.stderr.splitlines() if x.startswith("MODULES "))
    return proc, set(line.split()[1:])


@pytest.mark.parametrize("args", [("--help",), ("--version",), ("-v", "--help")])
def test_help_and_version_import_nothing_heavy(args: tuple[str, ...]) -> None:
    proc, names = _imported_modules(*args)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "synthbot_desktop.cli.main" in names or args == ("--version",)  # the parse really ran in the child
    heavy = sorted(n for n in names if any(n == h or n.startswith(h + ".") for h in HEAVY))
    assert heavy == [], f"`{' '.join(args)}` imported {heavy}"
    if "--help" in args:
        for command in COMMANDS:
            assert f"    {command} " in proc.stdout


def test_a_command_imports_only_its_own_module() -> None:
    proc, names = _imported_modules("memory", "--help")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "--json" in proc.stdout or "list" in proc.stdout
    loaded = {n.rsplit(".", 1)[-1] for n in names if n.startswith("synthbot_desktop.cli.commands.")}
    assert loaded == {"memory"}


def test_command_table_matches_every_module_register() -> None:
    """The table's names, modules and help lines are exactly what each module registers."""
    real: dict[str, tuple[str, str]] = {}
    for info in pkgutil.iter_modules(commands.__path__):
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        if getattr(module, "register", None) is None:
            continue
        sub = argparse.ArgumentParser().add_subparsers()
        module.register(sub)
        for action in sub._choices_actions:
            real[action.dest] = (info.name, str(action.help))
    assert real == COMMANDS


def test_chosen_command_is_registered_for_real_and_typos_list_all_commands(capsys: pytest.CaptureFixture[str]) -> None:
    parser = build_parser(["-v", "chat", "hello"])
    args = parser.parse_args(["-v", "chat", "hello"])
    assert args.command == "chat" and callable(args.func) and args.verbose == 1
    full = build_parser()
    assert set(full._subparsers._group_actions[0].choices) == set(COMMANDS)  # type: ignore[union-attr]
    with pytest.raises(SystemExit):
        build_parser(["chta"]).parse_args(["chta"])
    err = capsys.readouterr().err
    assert "invalid choice: 'chta'" in err and "'voices'" in err
