"""A headless Secret Service: a private D-Bus session bus with an unlocked gnome-keyring."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path


class SecretServiceError(RuntimeError):
    pass


class HeadlessSecretService:
    def __init__(self) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="synthbot-keyring-home-"))
        self.runtime = Path(tempfile.mkdtemp(prefix="synthbot-keyring-run-"))
        os.chmod(self.runtime, 0o700)
        self.address: str | None = None
        self._pids: list[int] = []

    def start(self) -> HeadlessSecretService:
        for tool in ("dbus-daemon", "gnome-keyring-daemon"):
            if not shutil.which(tool):
                raise SecretServiceError(f"{tool} is not installed (run scripts/setup.sh)")
        out = subprocess.run(
            ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
            capture_output=True, text=True, check=True, timeout=20,
        ).stdout.split()
        self.address, self._pids = out[0], [int(out[1])]
        env = dict(os.environ, DBUS_SESSION_BUS_ADDRESS=self.address, HOME=str(self.home),
                   XDG_RUNTIME_DIR=str(self.runtime))
        proc = subprocess.run(
            ["gnome-keyring-daemon", "--unlock", "--components=secrets", "--daemonize"],
            input="test-pass", capture_output=True, text=True, env=env, timeout=20,
        )
        for line in proc.stdout.splitlines():
            if line.startswith("GNOME_KEYRING_PID="):
                self._pids.append(int(line.split("=", 1)[1]))
        return self

    def environ(self) -> dict[str, str]:
        assert self.address
        return {"DBUS_SESSION_BUS_ADDRESS": self.address, "HOME": str(self.home),
                "XDG_RUNTIME_DIR": str(self.runtime)}

    def stop(self) -> None:
        for pid in reversed(self._pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        shutil.rmtree(self.home, ignore_errors=True)
        shutil.rmtree(self.runtime, ignore_errors=True)
