"""WaitUntilBackground (ports/cloudflare.py): work after the response goes to `waitUntil` through the
runtime SDK (`workers.wait_until`, i.e. `cloudflare:workers`), and runs to the end."""

from __future__ import annotations

import asyncio

from gateway.ports.cloudflare import D1Database, WaitUntilBackground


def test_defer_hands_the_work_to_wait_until_and_returns_at_once(worker, wait_until):
    db = D1Database(worker.env.DB)
    background = WaitUntilBackground()
    before = wait_until.total
    steps = []

    async def write_later():
        await asyncio.sleep(0.01)
        await db.query("INSERT INTO gateway_keys (id, key_hash, prefix) VALUES ('k', 'h', 'gw-k')")
        steps.append("written")

    async def handler():
        background.defer(write_later())
        steps.append("answered")  # the response goes out before the deferred work finishes

    asyncio.run(handler())
    assert wait_until.total == before + 1
    assert wait_until.drain() == ["fulfilled"]
    assert steps == ["answered", "written"]
    count = asyncio.run(db.query("SELECT count(*) AS n FROM gateway_keys")).rows
    assert count == [{"n": 1}]


def test_a_failure_in_deferred_work_stays_in_wait_until(worker, wait_until):
    background = WaitUntilBackground()

    async def broken():
        raise RuntimeError("insert failed")

    async def handler():
        background.defer(broken())
        return "answered"

    assert asyncio.run(handler()) == "answered"
    [outcome] = wait_until.drain()
    assert outcome.startswith("rejected: RuntimeError")
