"""One error vocabulary for the whole app.

Every expected fault (bad config, unreachable database, wrong key, provider refusing a
request) is raised as a :class:`SynthbotError` carrying a sentence a person understands and,
where there is one, a fix hint. The CLI prints these as one line without a traceback; the GUI
shows them in a banner. Anything else is a bug and keeps its traceback (redacted).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class SynthbotError(Exception):
    """An expected fault with a human message and an optional fix hint."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message

    def one_line(self) -> str:
        """The message and hint on one line, for stderr and banners."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class UsageError(SynthbotError):
    """The user asked for something that cannot work as asked (wrong flag, unknown name)."""

    exit_code = 2


class ConfigError(SynthbotError):
    """A settings or policy file (or env var) is unreadable or holds an invalid value."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        where = ""
        if path:
            where = f"{path}"
            if line:
                where += f":{line}"
            where += ": "
        if key:
            where += f"setting '{key}': "
        super().__init__(where + message, hint=hint)
        self.path = path
        self.line = line
        self.key = key


class PolicyLockedError(SynthbotError):
    """A setting locked by the administrator's policy file was asked to change."""


class SecretStoreError(SynthbotError):
    """The OS keyring is missing, locked or refused the operation."""


class DatabaseError(SynthbotError):
    """The database cannot be reached, refused us, or has the wrong schema."""


class SchemaOutdatedError(DatabaseError):
    """A remote database is behind the app's migrations and must be upgraded on purpose."""


class AudioError(SynthbotError):
    """A microphone/speaker problem or undecodable audio."""


class ModelError(SynthbotError):
    """A local speech model is missing or damaged."""


class ProviderErrorKind(enum.StrEnum):
    """What went wrong with a remote provider, independent of which provider it was."""

    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    RATE_LIMIT = "rate_limit"
    QUOTA = "quota"
    UNAVAILABLE = "unavailable"  # overloaded, 5xx, 529
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"  # unknown model/voice
    CONTEXT_TOO_LONG = "context_too_long"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    PROTOCOL = "protocol"  # malformed reply
    CANCELLED = "cancelled"


_KIND_SENTENCES: dict[ProviderErrorKind, str] = {
    ProviderErrorKind.AUTHENTICATION: "rejected the API key",
    ProviderErrorKind.PERMISSION: "says this key is not allowed to do that",
    ProviderErrorKind.RATE_LIMIT: "is rate limiting requests",
    ProviderErrorKind.QUOTA: "says the account's quota or credit is used up",
    ProviderErrorKind.UNAVAILABLE: "is overloaded or unavailable right now",
    ProviderErrorKind.BAD_REQUEST: "refused the request",
    ProviderErrorKind.NOT_FOUND: "does not know the requested model or voice",
    ProviderErrorKind.CONTEXT_TOO_LONG: "says the conversation is too long for the model",
    ProviderErrorKind.TIMEOUT: "did not answer in time",
    ProviderErrorKind.CONNECTION: "could not be reached",
    ProviderErrorKind.PROTOCOL: "sent a reply the app could not understand",
    ProviderErrorKind.CANCELLED: "request was cancelled",
}

_KIND_HINTS: dict[ProviderErrorKind, str] = {
    ProviderErrorKind.AUTHENTICATION: "set a valid key with `synthbot-desktop keys set {provider}`",
    ProviderErrorKind.QUOTA: "check the plan and billing of the {provider} account",
    ProviderErrorKind.CONNECTION: "check the network and the {provider} base URL in settings",
    ProviderErrorKind.NOT_FOUND: "pick another model or voice from the provider's list",
    ProviderErrorKind.CONTEXT_TOO_LONG: "start a new session or choose a model with a larger context",
}


@dataclass(frozen=True)
class ProviderErrorInfo:
    """Machine-readable facts about a provider failure (stored in usage and error logs)."""

    provider: str
    kind: ProviderErrorKind
    status_code: int | None = None
    request_id: str | None = None
    retry_after: float | None = None
    detail: str | None = None


class ProviderError(SynthbotError):
    """A provider request failed; ``kind`` decides retries and what the user is told."""

    def __init__(
        self,
        provider: str,
        kind: ProviderErrorKind,
        detail: str | None = None,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        sentence = f"{provider} {_KIND_SENTENCES[kind]}"
        if status_code:
            sentence += f" (HTTP {status_code})"
        if detail:
            sentence += f": {detail}"
        if request_id:
            sentence += f" [request id {request_id}]"
        if hint is None and kind in _KIND_HINTS:
            hint = _KIND_HINTS[kind].format(provider=provider)
        if kind is ProviderErrorKind.RATE_LIMIT and retry_after is not None and hint is None:
            hint = f"try again in {retry_after:.0f} s"
        super().__init__(sentence, hint=hint)
        self.info = ProviderErrorInfo(provider, kind, status_code, request_id, retry_after, detail)

    @property
    def kind(self) -> ProviderErrorKind:
        return self.info.kind

    @property
    def provider(self) -> str:
        return self.info.provider

    @property
    def retryable(self) -> bool:
        """Whether sending the same request again may succeed (before any output was used)."""
        return self.info.kind in {
            ProviderErrorKind.RATE_LIMIT,
            ProviderErrorKind.UNAVAILABLE,
            ProviderErrorKind.TIMEOUT,
            ProviderErrorKind.CONNECTION,
        }


class ErrorKind(enum.StrEnum):
    """What went wrong, for events (``ErrorEvent.kind``) and the GUI's "open settings" actions.

    Provider failures keep their :class:`ProviderErrorKind` value (the enums share those strings),
    the app's own faults get one kind each; a ``StrEnum`` still compares equal to the old strings.
    """

    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    RATE_LIMIT = "rate_limit"
    QUOTA = "quota"
    UNAVAILABLE = "unavailable"
    BAD_REQUEST = "bad_request"
    NOT_FOUND = "not_found"
    CONTEXT_TOO_LONG = "context_too_long"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    PROTOCOL = "protocol"
    CANCELLED = "cancelled"
    KEYS = "keys"
    AUDIO = "audio"
    DATABASE = "database"
    MODEL = "model"
    CONFIG = "config"
    POLICY = "policy"
    USAGE = "usage"
    TTS_LANGUAGE = "tts_language"
    # Events about one part of a turn, not about an exception type
    LLM = "llm"  # the reply stream broke off (not a provider's own error)
    TTS = "tts"  # speech output failed; the reply is shown as text
    ENGINE = "engine"  # the talk engine could not be built (the window's stand-in service)
    ENGINE_FALLBACK = "engine_fallback"  # ElevenLabs failed; the offline Piper voice speaks
    VOICE_FALLBACK = "voice_fallback"  # the chosen ElevenLabs voice is gone; the default speaks
    RANDOMNESS = "randomness"  # enhanced mode fell back to the OS CSPRNG
    BUG = "bug"


#: Which settings page fixes a kind (None: nothing to open).
_SETTINGS_PAGE: dict[ErrorKind, str] = {
    ErrorKind.AUTHENTICATION: "providers", ErrorKind.PERMISSION: "providers", ErrorKind.NOT_FOUND: "providers",
    ErrorKind.KEYS: "providers", ErrorKind.CONNECTION: "providers",  # a wrong URL or port is fixed there
    ErrorKind.AUDIO: "audio", ErrorKind.DATABASE: "database", ErrorKind.MODEL: "stt",
    ErrorKind.CONFIG: "", ErrorKind.POLICY: "", ErrorKind.USAGE: "",
}


def error_kind(exc: BaseException) -> ErrorKind:
    """The kind of an exception (never derived from class names at the call site)."""
    if isinstance(exc, ProviderError):
        return ErrorKind(str(exc.kind))
    for cls, kind in ((SecretStoreError, ErrorKind.KEYS), (AudioError, ErrorKind.AUDIO),
                      (DatabaseError, ErrorKind.DATABASE), (ModelError, ErrorKind.MODEL),
                      (PolicyLockedError, ErrorKind.POLICY), (ConfigError, ErrorKind.CONFIG),
                      (UsageError, ErrorKind.USAGE)):
        if isinstance(exc, cls):
            return kind
    return ErrorKind.USAGE if isinstance(exc, SynthbotError) else ErrorKind.BUG


def settings_action(kind: ErrorKind) -> str | None:
    """The banner action for a kind: ``open_settings[:page]`` or None."""
    page = _SETTINGS_PAGE.get(kind)
    if page is None:
        return None
    return f"open_settings:{page}" if page else "open_settings"


def describe(exc: BaseException) -> str:
    """One line for a person: the message and fix for our errors, the type for others; redacted."""
    from synthbot_desktop.redaction import redact

    text = exc.one_line() if isinstance(exc, SynthbotError) else f"{type(exc).__name__}: {exc}"
    return redact(text)
