"""API keys and database passwords live only in the OS keyring (service ``synthbot-desktop``).

Lookup order for a provider key: the ``SYNTHBOT_<PROVIDER>_API_KEY`` environment variable (for
automation; never written anywhere), then the keyring. Every value read is registered with
the redactor so it cannot leak into logs or error text.

When no keyring backend exists the app says so plainly. A private file backend is used only
when the user opts in (``secrets.allow_file_backend``); ``keyrings.alt`` backends, which keyring
may pick silently when it is installed, are refused unless chosen explicitly.
(Named keystore, not secrets, so it never shadows the standard library's ``secrets``.)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import fail

from synthbot_desktop import APP_NAME
from synthbot_desktop.config import KEYED_PROVIDERS, PROVIDERS
from synthbot_desktop.errors import SecretStoreError, UsageError
from synthbot_desktop.redaction import register_secret

SERVICE = APP_NAME


def fingerprint(secret: str) -> str:
    """A stable, non-reversible id for a key: enough to tell keys apart, useless to an attacker."""
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()[:12]


def env_key_name(provider: str) -> str:
    return f"SYNTHBOT_{provider.upper()}_API_KEY"


def db_secret_name(user: str, host: str, port: int | None) -> str:
    return f"db:{user}@{host}:{port or 3306}"


class FileKeyring(keyring.backend.KeyringBackend):
    """Opt-in fallback: a JSON file readable only by the user (mode 0600).

    It is not encrypted: it protects keys exactly as well as the user's home directory does,
    which is why it is never chosen automatically.
    """

    priority = -1  # never selected by keyring's auto-detection

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise keyring.errors.KeyringError(f"key file {self.path} is unreadable: {exc}") from None
        return data if isinstance(data, dict) else {}

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
        os.replace(tmp, self.path)
        with contextlib.suppress(OSError):
            os.chmod(self.path, 0o600)

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._read().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            data = self._read()
            data.setdefault(service, {})[username] = password
            self._write(data)

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            data = self._read()
            if username not in data.get(service, {}):
                raise keyring.errors.PasswordDeleteError("no such entry")
            del data[service][username]
            self._write(data)


@dataclass(frozen=True)
class KeyInfo:
    provider: str
    fingerprint: str | None
    source: str  # "env", "keyring (<backend>)", or "missing"


def _backend_label(backend: keyring.backend.KeyringBackend) -> str:
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _is_usable(backend: keyring.backend.KeyringBackend, env: Mapping[str, str]) -> bool:
    if isinstance(backend, fail.Keyring):
        return False
    module = type(backend).__module__
    if module.startswith("keyrings.alt") and not env.get("PYTHON_KEYRING_BACKEND"):
        return False  # a plaintext store picked silently: refuse
    if type(backend).__name__ == "ChainerBackend":
        return any(_is_usable(b, env) for b in getattr(backend, "backends", []))
    return True


class KeyStore:
    """The app's only door to secrets."""

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        allow_file_backend: bool = False,
        file_path: Path | None = None,
        backend: keyring.backend.KeyringBackend | None = None,
    ) -> None:
        self._env = os.environ if env is None else env
        self._allow_file = allow_file_backend
        self._file_path = file_path
        self._backend = backend

    def backend(self) -> keyring.backend.KeyringBackend:
        """The keyring backend to use, or a SecretStoreError saying why there is none."""
        if self._backend is not None:
            return self._backend
        try:
            chosen = keyring.get_keyring()
        except Exception as exc:  # a broken backend configuration
            raise SecretStoreError(f"the OS keyring could not be loaded: {exc}") from None
        if _is_usable(chosen, self._env):
            self._backend = chosen
            return chosen
        if self._allow_file and self._file_path is not None:
            self._backend = FileKeyring(self._file_path)
            return self._backend
        raise SecretStoreError(
            "no OS keyring is available to store API keys (no Secret Service / Keychain / "
            "Credential Manager was found)",
            hint="start your desktop's keyring (e.g. gnome-keyring), use SYNTHBOT_<PROVIDER>_API_KEY, "
            "or opt in to the private key file: synthbot-desktop config set secrets.allow_file_backend true",
        )

    def backend_name(self) -> str:
        return _backend_label(self.backend())

    def _call(self, what: str, fn, *args):  # type: ignore[no-untyped-def]
        backend = self.backend()
        try:
            return fn(backend, *args)
        except keyring.errors.KeyringLocked:
            raise SecretStoreError("the keyring is locked", hint="unlock your login keyring and try again") from None
        except keyring.errors.PasswordDeleteError:
            raise
        except keyring.errors.KeyringError as exc:
            raise SecretStoreError(f"the keyring refused to {what}: {exc}") from None
        except Exception as exc:  # D-Bus errors, dismissed unlock prompts, ...
            name = type(exc).__name__
            if "lock" in name.lower() or "dismiss" in str(exc).lower():
                raise SecretStoreError("the keyring is locked", hint="unlock your login keyring and try again") from None
            raise SecretStoreError(f"the keyring failed to {what} ({name}: {exc})") from None

    @staticmethod
    def _check_provider(provider: str) -> None:
        if provider not in PROVIDERS:
            raise UsageError(f"unknown provider {provider!r}; expected one of: {', '.join(PROVIDERS)}")

    def get(self, provider: str) -> str | None:
        """The key for ``provider`` (env wins), or None when none is configured."""
        self._check_provider(provider)
        return self._read(provider)

    def _read(self, name: str) -> str | None:
        """The secret stored as ``name``: its environment variable first, then the keyring; registered
        for redaction. A keyring that cannot be read counts as no secret."""
        value = self._env.get(env_key_name(name))
        if value:
            register_secret(value)
            return value
        try:
            stored = self._call("read the key", lambda b: b.get_password(SERVICE, name))
        except SecretStoreError:
            return None
        register_secret(stored)
        return stored or None

    def require(self, provider: str) -> str:
        key = self.get(provider)
        if not key:
            raise SecretStoreError(f"no API key is set for {provider}",
                                   hint=f"run `synthbot-desktop keys set {provider}` or set {env_key_name(provider)}")
        return key

    def set(self, provider: str, secret: str) -> str:
        """Store a key; returns its fingerprint."""
        self._check_provider(provider)
        secret = secret.strip()
        if not secret:
            raise UsageError("the key is empty")
        if any(c.isspace() for c in secret):
            raise UsageError("the key contains spaces or line breaks; paste only the key")
        register_secret(secret)
        self._call("store the key", lambda b: b.set_password(SERVICE, provider, secret))
        return fingerprint(secret)

    def delete(self, provider: str) -> bool:
        """Remove a stored key; False when there was none."""
        self._check_provider(provider)
        try:
            self._call("delete the key", lambda b: b.delete_password(SERVICE, provider))
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    def delete_entry(self, name: str) -> bool:
        """Remove this app's keyring entry ``name`` (any kind: key, token, database password);
        False when there was none. Used by ``data delete-all``."""
        try:
            self._call("delete the entry", lambda b: b.delete_password(SERVICE, name))
        except keyring.errors.PasswordDeleteError:
            return False
        return True

    def get_entry(self, name: str) -> str | None:
        """This app's keyring entry ``name`` (no environment override), registered for redaction.
        Raises SecretStoreError when the keyring cannot be read: the caller says what is missing."""
        value = self._call("read the entry", lambda b: b.get_password(SERVICE, name))
        register_secret(value)
        return value or None

    def set_entry(self, name: str, value: str) -> None:
        """Store ``value`` as this app's keyring entry ``name`` (e.g. an MCP server's env value)."""
        register_secret(value)
        self._call("store the entry", lambda b: b.set_password(SERVICE, name, value))

    def info(self, provider: str) -> KeyInfo:
        self._check_provider(provider)
        value = self._env.get(env_key_name(provider))
        if value:
            register_secret(value)
            return KeyInfo(provider, fingerprint(value), f"env ({env_key_name(provider)})")
        stored = self._call("read the key", lambda b: b.get_password(SERVICE, provider))
        if stored:
            register_secret(stored)
            return KeyInfo(provider, fingerprint(stored), f"keyring ({self.backend_name()})")
        return KeyInfo(provider, None, "missing")

    def list(self) -> list[KeyInfo]:
        return [self.info(p) for p in KEYED_PROVIDERS]

    # Database passwords -------------------------------------------------------------------
    def get_db_password(self, user: str, host: str, port: int | None) -> str | None:
        env_pw = self._env.get("SYNTHBOT_DATABASE_PASSWORD")
        if env_pw:
            register_secret(env_pw)
            return env_pw
        try:
            value = self._call("read the database password",
                               lambda b: b.get_password(SERVICE, db_secret_name(user, host, port)))
        except SecretStoreError:
            return None
        register_secret(value)
        return value or None

    def set_db_password(self, user: str, host: str, port: int | None, password: str) -> None:
        register_secret(password)
        self._call("store the database password",
                   lambda b: b.set_password(SERVICE, db_secret_name(user, host, port), password))


IBM_QUANTUM_KEY = "ibm_quantum"  # keyring user name of the IBM Quantum API token (issue #20)


def get_ibm_quantum_token(store: KeyStore) -> str | None:
    """The IBM Quantum token: ``SYNTHBOT_IBM_QUANTUM_API_KEY`` first, then the keyring; registered for redaction."""
    return store._read(IBM_QUANTUM_KEY)


def set_ibm_quantum_token(store: KeyStore, token: str) -> str:
    register_secret(token)
    store._call("store the key", lambda b: b.set_password(SERVICE, IBM_QUANTUM_KEY, token))
    return fingerprint(token)
