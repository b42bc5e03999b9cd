"""When and how long every HTTP provider (LLM and ElevenLabs) waits before sending a failed request again.

One policy and one Retry-After parser, so the LLM clients and the TTS client wait the same time for
the same answer (they had drifted: the TTS loop had no jitter and slept through any Retry-After
capped at 8 s). Retries are only safe before the first token or audio byte (after it, a second
attempt would contradict or repeat what the user already got), only for transient kinds (rate
limit, overload, timeout, connection), bounded, with exponential backoff and full jitter so many
clients do not retry in lockstep. A provider's ``retry-after`` is honoured; when it asks for longer
than a voice turn can wait, the error is reported (and speech falls back) instead of stalling.
Pure (no httpx, no Qt); the parser takes ``now`` so tests can pin the clock for the HTTP-date form.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from synthbot_desktop.errors import ProviderError


def parse_retry_after(headers: Mapping[str, str] | Any, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date); None if absent or garbage."""
    if headers is None:
        return None
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - (now or dt.datetime.now(dt.UTC))).total_seconds())

@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    base_delay_s: float = 0.5
    max_delay_s: float = 8.0
    #: longest provider-requested wait we are willing to sleep through
    max_retry_after_s: float = 20.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay_for(self, error: ProviderError, retries_done: int) -> float | None:
        """Seconds to sleep before retry number ``retries_done + 1``, or None to give up."""
        if not error.retryable or retries_done >= self.max_retries:
            return None
        retry_after = error.info.retry_after
        if retry_after is not None:
            if retry_after > self.max_retry_after_s:
                return None
            return retry_after + self.rng.uniform(0, min(0.25, self.base_delay_s))
        cap = min(self.max_delay_s, self.base_delay_s * (2 ** retries_done))
        return self.rng.uniform(cap / 2, cap)


NO_RETRY = RetryPolicy(max_retries=0)
