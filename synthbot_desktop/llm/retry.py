"""When and how long to wait before sending a failed request again.

Retries are only safe before the first token (after it, the user has seen text a second
attempt would contradict), only for transient kinds (rate limit, overload, timeout,
connection), bounded, with exponential backoff and full jitter so many clients do not retry
in lockstep. A provider's ``retry-after`` is honoured; when it asks for longer than a voice
turn can wait, we report the error instead of stalling silently.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from synthbot_desktop.errors import ProviderError


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
