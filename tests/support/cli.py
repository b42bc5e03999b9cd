"""Running the real CLI in a subprocess against fake providers (shared by the end-to-end tests)."""

from __future__ import annotations

import os
import sys

from tests.conftest import ROOT


def cli_env(app_env: dict[str, str], fakes: dict[str, str], db_url: str) -> dict[str, str]:
    """The process environment: isolated app dirs, fake provider URLs, the test database, this worktree's code."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SYNTHBOT_")}
    env.update(app_env)
    env.update(fakes)
    env["SYNTHBOT_DATABASE_URL"] = db_url
    env["SYNTHBOT_SET__database__auto_upgrade_remote"] = "true"
    env["PYTHONPATH"] = str(ROOT)
    return env


def cli_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "synthbot_desktop", *args]
