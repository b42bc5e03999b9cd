"""Where things live on each OS.

Kept as pure functions of (platform, environment) so the Windows and macOS branches are
unit-tested on the Linux CI machine.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePath, PurePosixPath, PureWindowsPath

import platformdirs

from synthbot_desktop import APP_DISPLAY_NAME, APP_NAME

ENV_CONFIG_DIR = "SYNTHBOT_CONFIG_DIR"
ENV_DATA_DIR = "SYNTHBOT_DATA_DIR"
ENV_POLICY_FILE = "SYNTHBOT_POLICY_FILE"


def platform_key(platform: str | None = None) -> str:
    """Normalise ``sys.platform`` to one of ``linux``, ``darwin``, ``win32``."""
    p = platform or sys.platform
    if p.startswith("win") or p == "cygwin":
        return "win32"
    if p == "darwin":
        return "darwin"
    return "linux"


def system_policy_path(platform: str | None = None, env: Mapping[str, str] | None = None) -> PurePath:
    """The admin policy file's system-wide location on ``platform``.

    Linux follows the /etc convention, macOS the /Library/Application Support one, and
    Windows ProgramData (where Group Policy scripts and installers usually drop files).
    """
    env = os.environ if env is None else env
    key = platform_key(platform)
    if key == "win32":
        base = env.get("PROGRAMDATA") or r"C:\ProgramData"
        return PureWindowsPath(base) / APP_DISPLAY_NAME / "policy.toml"
    if key == "darwin":
        return PurePosixPath("/Library/Application Support") / APP_DISPLAY_NAME / "policy.toml"
    return PurePosixPath("/etc") / APP_NAME / "policy.toml"


@dataclass(frozen=True)
class AppPaths:
    """The directories and files the app reads and writes."""

    config_dir: Path
    data_dir: Path
    policy_file: Path
    policy_from_env: bool

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def default_database_file(self) -> Path:
        return self.data_dir / "synthbot.sqlite3"

    @property
    def spool_dir(self) -> Path:
        return self.data_dir / "spool"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def recordings_dir(self) -> Path:
        return self.data_dir / "recordings"


def resolve_paths(env: Mapping[str, str] | None = None) -> AppPaths:
    """Apply the environment overrides on top of the platform's conventional locations."""
    env = os.environ if env is None else env
    config_dir = Path(env[ENV_CONFIG_DIR]) if env.get(ENV_CONFIG_DIR) else Path(
        platformdirs.user_config_dir(APP_NAME, appauthor=False)
    )
    data_dir = Path(env[ENV_DATA_DIR]) if env.get(ENV_DATA_DIR) else Path(
        platformdirs.user_data_dir(APP_NAME, appauthor=False)
    )
    if env.get(ENV_POLICY_FILE):
        policy, from_env = Path(env[ENV_POLICY_FILE]), True
    else:
        policy, from_env = Path(system_policy_path(env=env)), False
    return AppPaths(config_dir=config_dir, data_dir=data_dir, policy_file=policy, policy_from_env=from_env)
