"""The CLI starts and reports its version in a fresh environment."""

from __future__ import annotations

import subprocess
import sys

from synthbot_desktop import __version__


def test_version_subprocess(app_env: dict[str, str]) -> None:
    out = subprocess.run([sys.executable, "-m", "synthbot_desktop", "--version"],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"synthbot-desktop {__version__}"
