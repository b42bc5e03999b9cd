"""Failures of a chat stream that carry what was received before the failure.

A voice turn must keep the words the user already saw or heard: when a stream breaks after
the first token, the caller needs the partial text (stored, marked incomplete) and the usage
facts (latency, request id) for the usage log. :class:`ChatStreamError` is a
:class:`~synthbot_desktop.errors.ProviderError`, so code that only knows the shared vocabulary
still handles it.
"""

from __future__ import annotations

from synthbot_desktop.errors import ProviderError
from synthbot_desktop.llm.base import ChatUsage


class ChatStreamError(ProviderError):
    """A ProviderError raised by ``stream()``, with the partial reply and the call's usage."""

    def __init__(self, cause: ProviderError, *, partial_text: str, usage: ChatUsage) -> None:
        info = cause.info
        super().__init__(
            info.provider, info.kind, info.detail, status_code=info.status_code,
            request_id=info.request_id, retry_after=info.retry_after, hint=cause.hint,
        )
        self.partial_text = partial_text
        self.usage = usage

    @property
    def incomplete(self) -> bool:
        """True when some text arrived before the failure (the reply is partial, not absent)."""
        return bool(self.partial_text)
