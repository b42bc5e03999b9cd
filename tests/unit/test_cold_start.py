"""Cold start: `--version` and importing the application layer load nothing heavy (issue #12).

Checked through sys.modules in a fresh interpreter, not by timing (the machine is shared)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

HEAVY = ("sqlalchemy", "alembic", "numpy", "httpx", "faster_whisper", "ctranslate2", "PySide6")


def _loaded_after(code: str) -> list[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(m for m in sys.modules if '.' not in m)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.getcwd()}, timeout=120)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_version_imports_nothing_heavy() -> None:
    loaded = _loaded_after("from synthbot_desktop.cli.main import main\nassert main(['--version']) == 0")
    assert not [m for m in HEAVY if m in loaded]


def test_app_context_import_defers_database_libraries() -> None:
    loaded = _loaded_after("import synthbot_desktop.app")
    assert "alembic" not in loaded and "sqlalchemy" not in loaded
