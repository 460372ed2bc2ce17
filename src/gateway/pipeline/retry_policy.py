"""How long the gateway waits for a provider, and how it retries one (docs/fallbacks.md).

Pure numbers and one pure function, so the settings can hold them and tests can check the arithmetic.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    connect_seconds: float = 10.0        # reaching the provider
    first_token_seconds: float = 60.0    # until the answer's headers, and for a stream its first content token
    stream_idle_seconds: float = 20.0    # the longest silence between stream chunks after the first token
    attempt_seconds: float = 120.0       # one attempt's whole answer
    deadline_seconds: float = 150.0      # the whole request, every attempt and wait included
    retries_per_model: int = 1           # same model and key again after rate_limit / server_error / timeout
    base_backoff_seconds: float = 0.25   # first backoff; doubled per retry, with full jitter
    max_backoff_seconds: float = 4.0
    retry_after_cap_seconds: float = 5.0  # a longer Retry-After is not waited for: the next candidate is tried
    max_attempts: int = 5                # upstream attempts per request, all models and keys together
    fallbacks: bool = True               # False: a failure never moves to another model or provider


def backoff_seconds(policy: RetryPolicy, retry: int, retry_after: float | None,
                    rng: random.Random | None = None) -> float | None:
    """The wait before retry number `retry` (1-based) of the same model; None: do not wait for it, move on.

    A provider's Retry-After is honoured exactly when it is within the cap (it knows best), and means
    "move on" when it is longer. Without one: exponential backoff with full jitter (uniform between 0
    and base × 2^(retry-1), capped), so retries from many isolates do not arrive together."""
    if retry_after is not None:
        return retry_after if retry_after <= policy.retry_after_cap_seconds else None
    ceiling = min(policy.max_backoff_seconds, policy.base_backoff_seconds * (2 ** (retry - 1)))
    return (rng or random).uniform(0.0, ceiling)
