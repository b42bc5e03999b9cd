"""`scripts/setup.sh` on machines that are not ready: too old a Python, no package index.

A new user's first command is this script; when it cannot finish it must say why in one line and
never leave a half-built ``.venv`` that a later run would trust. The tests run a copy of the
script in a scratch project (the real pyproject and lock beside it) so the project's own ``.venv``
is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _scratch_project(tmp_path: Path) -> Path:
    proj = tmp_path / "proj"
    (proj / "scripts").mkdir(parents=True)
    (proj / "requirements").mkdir()
    shutil.copy(ROOT / "scripts" / "setup.sh", proj / "scripts" / "setup.sh")
    shutil.copy(ROOT / "pyproject.toml", proj / "pyproject.toml")
    shutil.copy(ROOT / "requirements" / "lock.txt", proj / "requirements" / "lock.txt")
    shutil.copy(ROOT / "requirements" / "models.txt", proj / "requirements" / "models.txt")
    return proj


def _run(proj: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "scripts/setup.sh"], cwd=proj, env=env, capture_output=True, text=True,
                          timeout=300)


def test_too_old_python_is_named_with_the_package_to_install(tmp_path: Path) -> None:
    proj = _scratch_project(tmp_path)
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("python3.13", "python3.12", "python3.11", "python3"):  # each one says it is 3.10
        exe = fake_bin / name
        exe.write_text("#!/bin/sh\nexit 1\n")
        exe.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    r = _run(proj, env)
    assert r.returncode == 1
    assert "Python 3.11 or newer is required" in r.stderr and "python3.11-venv" in r.stderr
    assert not (proj / ".venv").exists()


@pytest.mark.slow
def test_no_package_index_fails_clearly_and_the_next_run_rebuilds_the_venv(tmp_path: Path) -> None:
    proj = _scratch_project(tmp_path)
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "0", "PIP_TIMEOUT": "2",
           "PIP_NO_CACHE_DIR": "1", "PIP_FIND_LINKS": "", "PIP_CONSTRAINT": ""}
    env.pop("VIRTUAL_ENV", None)
    first = _run(proj, env)
    assert first.returncode == 1, first.stderr[-2000:]
    assert "no network or package index reachable" in first.stderr
    assert not (proj / ".venv" / ".synthbot-installed").exists()  # never marked complete
    second = _run(proj, env)
    assert second.returncode == 1
    assert "found an unfinished .venv" in second.stderr  # not trusted, rebuilt
