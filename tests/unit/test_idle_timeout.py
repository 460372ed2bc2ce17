"""The stream idle timeout: fires on a silent upstream, not on a slow client, and lets a caller's own
cancellation through as a cancellation."""

import asyncio

import pytest

from gateway.pipeline.idle_timeout import IdleTimeout


def test_a_wait_longer_than_the_idle_period_times_out():
    async def scenario():
        idle = IdleTimeout(0.05)
        try:
            assert await idle.wait(asyncio.sleep(0.01, "chunk")) == "chunk"
            with pytest.raises(TimeoutError):
                await idle.wait(asyncio.sleep(5))
        finally:
            idle.close()

    asyncio.run(asyncio.wait_for(scenario(), 2))


def test_time_between_waits_does_not_count():
    async def scenario():
        idle = IdleTimeout(0.05)
        try:
            for _ in range(4):
                await idle.wait(asyncio.sleep(0.03))  # each wait is within the period
                await asyncio.sleep(0.08)             # a slow client between chunks: not the upstream's silence
        finally:
            idle.close()
        return True

    assert asyncio.run(scenario())


def test_a_cancellation_from_outside_stays_a_cancellation():
    async def scenario():
        idle = IdleTimeout(10)

        async def relay():
            try:
                await idle.wait(asyncio.sleep(5))
            finally:
                idle.close()

        task = asyncio.ensure_future(relay())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
