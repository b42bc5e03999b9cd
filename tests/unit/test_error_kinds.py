"""Error kinds and the one person-facing rendering (redacted) shared by events and GUI pages."""

from __future__ import annotations

from synthbot_desktop.errors import (
    AudioError,
    ErrorKind,
    ProviderError,
    ProviderErrorKind,
    SchemaOutdatedError,
    SecretStoreError,
    UsageError,
    describe,
    error_kind,
    settings_action,
)
from synthbot_desktop.redaction import register_secret


def test_every_provider_kind_is_an_error_kind() -> None:
    for kind in ProviderErrorKind:
        assert ErrorKind(str(kind)) == kind


def test_kinds_and_settings_actions() -> None:
    auth = ProviderError("openai", ProviderErrorKind.AUTHENTICATION)
    assert error_kind(auth) is ErrorKind.AUTHENTICATION
    assert settings_action(ErrorKind.AUTHENTICATION) == "open_settings:providers"
    assert error_kind(ProviderError("openai", ProviderErrorKind.TIMEOUT)) is ErrorKind.TIMEOUT
    assert settings_action(ErrorKind.TIMEOUT) is None
    assert error_kind(SecretStoreError("no keyring")) is ErrorKind.KEYS
    assert error_kind(AudioError("no mic")) is ErrorKind.AUDIO and settings_action(ErrorKind.AUDIO) == "open_settings:audio"
    assert error_kind(SchemaOutdatedError("old")) is ErrorKind.DATABASE
    assert error_kind(UsageError("bad")) is ErrorKind.USAGE and settings_action(ErrorKind.USAGE) == "open_settings"
    assert error_kind(RuntimeError("x")) is ErrorKind.BUG and settings_action(ErrorKind.BUG) is None


def test_describe_is_one_line_and_redacted() -> None:
    secret = "sk-live-abcdefghijklmnop1234567890"
    register_secret(secret)
    assert describe(UsageError("bad input", hint="fix it")) == "bad input — fix it"
    text = describe(RuntimeError(f"boom with {secret}"))
    assert text.startswith("RuntimeError: boom") and secret not in text
    assert secret not in describe(UsageError(f"key {secret} refused"))
