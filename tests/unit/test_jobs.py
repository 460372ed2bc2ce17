"""The scheduled-job registry: every job runs, a failing one does not stop the rest."""

from __future__ import annotations

import asyncio

from gateway import jobs
from gateway.core import Gateway
from gateway.ports import Ports
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient
from gateway.settings import Settings


def make_gateway(db, clock) -> Gateway:
    ports = Ports(database=db, http=FakeHttpClient(), background=CollectingBackground(), clock=clock)
    return Gateway(ports, Settings())


def test_prune_drops_counters_older_than_two_days(db):
    clock = FakeClock(now=1_795_000_000.0)  # 2026-11-18 UTC
    gateway = make_gateway(db, clock)
    for window in ("2026-11-14", "2026-11-15", "2026-11-16", "2026-11-18"):
        asyncio.run(db.query("INSERT INTO rate_limit_counters (subject, window, count) VALUES ('key:k', ?, 3)", (window,)))
    outcomes = asyncio.run(jobs.run_all(gateway))
    assert outcomes["prune_rate_limit_counters"] == "ok"
    kept = asyncio.run(db.query("SELECT window FROM rate_limit_counters ORDER BY window")).rows
    assert [row["window"] for row in kept] == ["2026-11-16", "2026-11-18"]


def test_a_failing_job_is_reported_and_the_others_still_run(db, monkeypatch):
    ran = []

    async def broken(gateway):
        raise RuntimeError("boom")

    async def healthy(gateway):
        ran.append("healthy")

    monkeypatch.setattr(jobs, "JOBS", {"broken": broken, "healthy": healthy})
    outcomes = asyncio.run(jobs.run_all(make_gateway(db, FakeClock())))
    assert outcomes == {"broken": "failed: boom", "healthy": "ok"}
    assert ran == ["healthy"]
