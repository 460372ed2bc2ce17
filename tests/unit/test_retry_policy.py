"""The retry arithmetic: Retry-After honoured up to the cap, exponential backoff with full jitter."""

import random

from gateway.pipeline.retry_policy import RetryPolicy, backoff_seconds
from gateway.settings import Settings

POLICY = RetryPolicy(base_backoff_seconds=0.25, max_backoff_seconds=4.0, retry_after_cap_seconds=5.0)


def test_a_retry_after_within_the_cap_is_waited_exactly():
    assert backoff_seconds(POLICY, 1, 2.0) == 2.0
    assert backoff_seconds(POLICY, 3, 5.0) == 5.0


def test_a_retry_after_beyond_the_cap_means_move_on_without_waiting():
    assert backoff_seconds(POLICY, 1, 5.5) is None


def test_backoff_without_retry_after_doubles_and_stays_within_its_ceiling():
    for retry, ceiling in ((1, 0.25), (2, 0.5), (3, 1.0), (4, 2.0), (5, 4.0), (9, 4.0)):
        waits = [backoff_seconds(POLICY, retry, None, random.Random(seed)) for seed in range(200)]
        assert all(0.0 <= wait <= ceiling for wait in waits), retry
        assert max(waits) > ceiling * 0.9  # full jitter spreads over the whole range
        assert min(waits) < ceiling * 0.1


def test_settings_read_every_timeout_and_retry_knob():
    settings = Settings.from_env({
        "CONNECT_TIMEOUT_SECONDS": "3", "FIRST_TOKEN_TIMEOUT_SECONDS": "7", "STREAM_IDLE_TIMEOUT_SECONDS": "9",
        "UPSTREAM_TIMEOUT_SECONDS": "30", "REQUEST_DEADLINE_SECONDS": "45", "RETRIES_PER_MODEL": "2",
        "RETRY_BASE_SECONDS": "0.1", "RETRY_MAX_BACKOFF_SECONDS": "1", "RETRY_AFTER_CAP_SECONDS": "2",
        "MAX_ATTEMPTS": "4", "FALLBACKS": "off",
    })
    assert settings.retry == RetryPolicy(connect_seconds=3, first_token_seconds=7, stream_idle_seconds=9,
                                         attempt_seconds=30, deadline_seconds=45, retries_per_model=2,
                                         base_backoff_seconds=0.1, max_backoff_seconds=1, retry_after_cap_seconds=2,
                                         max_attempts=4, fallbacks=False)
    assert Settings.from_env({}).retry == RetryPolicy()
