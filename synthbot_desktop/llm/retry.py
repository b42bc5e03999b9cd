"""The LLM clients' retry policy: the one in :mod:`synthbot_desktop.http_retry`, shared with ElevenLabs."""

from __future__ import annotations

from synthbot_desktop.http_retry import NO_RETRY, RetryPolicy

__all__ = ["NO_RETRY", "RetryPolicy"]
