"""Shared fixtures: isolated app dirs, real MariaDB databases, PulseAudio, Secret Service, fakes.

Real services are required in CI (CI=true): a missing one fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import keyring.backend
import pytest

from tests.support import mariadb
from tests.support.fake_http import FakeServer
from tests.support.pulse import VirtualAudio
from tests.support.secret_service import HeadlessSecretService

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT.parent / "shared").resolve()
JFK = SHARED / "audio" / "jfk.flac"
FIXTURES = SHARED / "fixtures"
JFK_TEXT = ("And so my fellow Americans, ask not what your country can do for you, "
            "ask what you can do for your country.")

_AUDIO: VirtualAudio | None = None
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _is_xdist_controller(config: pytest.Config) -> bool:
    """With ``-n N`` the controller only hands tests to workers; each worker is its own process with its
    own PulseAudio daemon (private XDG_RUNTIME_DIR), so the controller needs none."""
    return bool(getattr(config.option, "numprocesses", None)) and "PYTEST_XDIST_WORKER" not in os.environ


def pytest_configure(config: pytest.Config) -> None:
    """Start the virtual audio devices before anything imports sounddevice (PortAudio
    enumerates devices once, at initialisation)."""
    global _AUDIO
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if _is_xdist_controller(config):
        return
    if shutil.which("pulseaudio") and not os.environ.get("SYNTHBOT_TEST_NO_PULSE"):
        _AUDIO = VirtualAudio().start()
        _AUDIO.export()
    elif IN_CI:
        raise pytest.UsageError("pulseaudio is required in CI: run scripts/setup.sh first")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Real-time audio tests share one worker (``--dist loadgroup``): two of them at once on two cores
    would starve each other's Whisper and playback and time out; the rest of the suite, which mostly
    waits on databases, subprocesses and sockets, runs beside them on the other worker."""
    for item in items:
        if item.get_closest_marker("audio") is not None or "virtual_audio" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("realtime_audio"))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _AUDIO is not None:
        _AUDIO.stop()


@pytest.fixture(scope="session")
def virtual_audio() -> VirtualAudio:
    if _AUDIO is None:
        pytest.fail("PulseAudio virtual devices are not running (install pulseaudio: scripts/setup.sh)")
    return _AUDIO


class MemoryKeyring(keyring.backend.KeyringBackend):
    """In-memory backend for unit tests."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.store:
            raise keyring.errors.PasswordDeleteError("missing")
        del self.store[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def app_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point the app at private config/data dirs and remove any ambient SynthBot settings."""
    for name in list(os.environ):
        if name.startswith("SYNTHBOT_"):
            monkeypatch.delenv(name)
    env = {"SYNTHBOT_CONFIG_DIR": str(tmp_path / "config"), "SYNTHBOT_DATA_DIR": str(tmp_path / "data")}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


@pytest.fixture
def ctx(app_env: dict[str, str], memory_keyring: MemoryKeyring) -> Iterator:  # type: ignore[type-arg]
    """An AppContext on a private SQLite database and an in-memory keyring."""
    from synthbot_desktop.app import AppContext

    context = AppContext()
    yield context
    context.close()


@pytest.fixture(scope="session")
def mariadb_server() -> None:
    mariadb.ensure_server()


@pytest.fixture
def mysql_url(mariadb_server: None) -> Iterator[str]:
    """A fresh, empty MariaDB database for one test."""
    name = mariadb.create_database()
    yield mariadb.server_url(name)
    mariadb.drop_database(name)


@pytest.fixture
def proxy() -> Iterator[mariadb.TcpProxy]:
    """A TCP proxy in front of MariaDB that the test may cut and restore (the shared server never stops)."""
    p = mariadb.TcpProxy()
    yield p
    p.close()


@pytest.fixture(params=["sqlite", pytest.param("mysql", marks=pytest.mark.mysql)])
def any_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test on both backends: a SQLite file and a fresh MariaDB database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.sqlite3'}"
    return str(request.getfixturevalue("mysql_url"))


@pytest.fixture(scope="session")
def secret_service() -> Iterator[HeadlessSecretService]:
    service = HeadlessSecretService().start()
    yield service
    service.stop()


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    with FakeServer() as server:
        yield server
