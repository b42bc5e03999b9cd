"""Error kinds and the one person-facing rendering (redacted) shared by events and GUI pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

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


def test_a_provider_failure_mid_reply_keeps_its_provider_kind_on_the_event() -> None:
    import asyncio

    from synthbot_desktop.pipeline.events import ErrorEvent
    from synthbot_desktop.pipeline.turn import UserInput
    from tests.support.turn_fakes import FakeChat, make

    class FailingChat(FakeChat):
        async def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:  # type: ignore[override]
            raise ProviderError("openai", ProviderErrorKind.RATE_LIMIT)
            yield  # an async generator, like a provider's stream

    engine, _out, _rec, events = make(chat=FailingChat(), realtime=False)
    asyncio.run(engine.run_turn(UserInput(text="hello?")))
    kinds = [e.kind for e in events if isinstance(e, ErrorEvent)]
    assert kinds and kinds[0] is ErrorKind.RATE_LIMIT
