"""Model health and the circuit breaker (pipeline/health.py), on a fake clock; the flush on real SQLite."""

from __future__ import annotations

import asyncio

from gateway.pipeline.health import CLOSED, HALF_OPEN, OPEN, HealthMonitor, HealthSettings, outcome_of
from gateway.ports.fakes import CollectingBackground, FakeClock
from gateway.storage import health as health_sql
from gateway.timefmt import utc_text

CFG = HealthSettings(window_seconds=60, failure_threshold=3, error_rate=0.5, min_samples=6, cooldown_seconds=10,
                     ewma_alpha=0.5, flush_seconds=5)
MODEL = "openai/gpt-4o-mini"


def row(status="success", error_type=None, model=MODEL, latency=100.0, ttft=None):
    return {"provider_id": model.split("/")[0], "model_id": model, "status": status, "error_type": error_type,
            "latency_ms": latency, "ttft_ms": ttft}


def failure(error_type="server_error", model=MODEL):
    return row("error", error_type, model=model)


def monitor(clock, cfg=CFG, db=None, background=None):
    return HealthMonitor(clock, cfg, db, background)


def state(mon, model=MODEL):
    return mon.snapshots()[model]["circuit_state"]


def opened_monitor(clock: FakeClock) -> HealthMonitor:
    """A monitor whose circuit for MODEL has just opened (three failures in a row)."""
    mon = monitor(clock)
    for _ in range(3):
        mon.observe(failure())
    return mon


def test_only_the_providers_failures_count():
    for kind in ("server_error", "timeout", "rate_limit"):
        assert outcome_of(failure(kind)) is False
    for kind in ("invalid_request", "context_length", "content_filter", "auth", "quota_exceeded", "model_not_found"):
        assert outcome_of(failure(kind)) is None
    assert outcome_of(row()) is True
    assert outcome_of(row("cancelled")) is True
    assert outcome_of({"status": "error", "error_type": "server_error", "model_id": None, "provider_id": None}) is None


def test_callers_errors_neither_open_nor_count():
    clock = FakeClock()
    mon = monitor(clock)
    for _ in range(10):
        mon.observe(failure("context_length"))
    assert mon.snapshots() == {}
    assert mon.allow(MODEL)


def test_consecutive_failures_open_the_circuit():
    clock = FakeClock()
    mon = monitor(clock)
    mon.observe(failure())
    mon.observe(failure("timeout"))
    assert state(mon) == CLOSED and not mon.is_open(MODEL)
    mon.observe(failure("rate_limit"))
    snap = mon.snapshots()[MODEL]
    assert snap["circuit_state"] == OPEN and snap["opened_at"] == clock.now()
    assert snap["last_error_type"] == "rate_limit" and snap["consecutive_failures"] == 3
    assert mon.is_open(MODEL) and not mon.allow(MODEL)


def test_a_success_resets_the_consecutive_count():
    clock = FakeClock()
    mon = monitor(clock)
    for _ in range(2):
        mon.observe(failure())
    mon.observe(row())
    for _ in range(2):
        mon.observe(failure())
    assert state(mon) == CLOSED
    assert mon.snapshots()[MODEL]["consecutive_failures"] == 2


def test_error_rate_opens_only_with_the_minimum_sample():
    clock = FakeClock()
    mon = monitor(clock)
    for _ in range(2):  # F F S F F S: never 3 in a row; 4 of 6 failed once 6 are in
        mon.observe(failure())
        mon.observe(failure())
        assert state(mon) == CLOSED
        mon.observe(row())
    assert state(mon) == CLOSED  # 6 samples, 4 failures, but the last outcome was a success
    mon.observe(failure())  # 7 samples, 5 failed >= 50 %
    assert state(mon) == OPEN


def test_the_window_forgets_old_outcomes():
    clock = FakeClock()
    mon = monitor(clock)
    for _ in range(5):
        mon.observe(row())
        mon.observe(failure())
    snap = mon.snapshots()[MODEL]
    assert (snap["window_requests"], snap["window_errors"]) == (10, 5)
    clock.advance(61)
    mon.observe(row())
    snap = mon.snapshots()[MODEL]
    assert (snap["window_requests"], snap["window_errors"]) == (1, 0)


def test_cooldown_half_open_one_probe_success_closes():
    clock = FakeClock()
    mon = opened_monitor(clock)
    clock.advance(9.9)
    assert state(mon) == OPEN and not mon.allow(MODEL)
    clock.advance(0.1)
    assert state(mon) == HALF_OPEN and not mon.is_open(MODEL)
    assert mon.allow(MODEL)          # the one probe
    assert not mon.allow(MODEL)      # nothing else while it is out
    mon.observe(row())
    snap = mon.snapshots()[MODEL]
    assert snap["circuit_state"] == CLOSED and snap["opened_at"] is None
    assert (snap["window_requests"], snap["window_errors"]) == (1, 0)
    assert mon.allow(MODEL) and mon.allow(MODEL)


def test_failed_probe_reopens_for_another_cooldown():
    clock = FakeClock()
    mon = opened_monitor(clock)
    clock.advance(10)
    assert mon.allow(MODEL)
    mon.observe(failure("timeout"))
    assert state(mon) == OPEN and mon.snapshots()[MODEL]["opened_at"] == clock.now()
    clock.advance(5)
    assert state(mon) == OPEN
    clock.advance(5)
    assert state(mon) == HALF_OPEN


def test_a_probe_that_never_reports_is_replaced_after_a_cooldown():
    clock = FakeClock()
    mon = opened_monitor(clock)
    clock.advance(10)
    assert mon.allow(MODEL)
    clock.advance(9)
    assert not mon.allow(MODEL)
    clock.advance(1)
    assert mon.allow(MODEL)


def test_outcomes_while_open_do_not_close_it_before_the_cooldown():
    clock = FakeClock()
    mon = opened_monitor(clock)
    mon.observe(row())  # nothing refuses requests yet, so a success can arrive while open
    assert state(mon) == OPEN


def test_latency_and_ttft_ewma_from_successes_only():
    clock = FakeClock()
    mon = monitor(clock)
    mon.observe(row(latency=100.0, ttft=40.0))
    mon.observe(row(latency=200.0, ttft=None))
    mon.observe(failure())
    snap = mon.snapshots()[MODEL]
    assert snap["latency_ewma_ms"] == 150.0  # alpha 0.5
    assert snap["ttft_ewma_ms"] == 40.0


def test_models_are_tracked_apart():
    clock = FakeClock()
    mon = monitor(clock)
    for _ in range(3):
        mon.observe(failure(model="anthropic/claude-x"))
    mon.observe(row())
    assert mon.is_open("anthropic/claude-x") and not mon.is_open(MODEL)
    assert mon.allow("never/called")


def test_flush_is_batched_and_writes_the_row(db):
    clock = FakeClock()
    background = CollectingBackground()
    mon = monitor(clock, db=db, background=background)
    for _ in range(3):
        mon.observe(failure())
    mon.observe(row(model="anthropic/claude-x"))
    assert len(background.pending) == 1  # one flush for all of them
    asyncio.run(background.drain())
    rows = {r["model_id"]: r for r in asyncio.run(health_sql.all_rows(db))}
    assert rows[MODEL]["circuit_state"] == OPEN
    assert rows[MODEL]["opened_at"] == utc_text(clock.now())
    assert (rows[MODEL]["window_requests"], rows[MODEL]["window_errors"]) == (3, 3)
    assert rows[MODEL]["last_error_type"] == "server_error"
    assert rows["anthropic/claude-x"]["circuit_state"] == CLOSED
    assert rows["anthropic/claude-x"]["last_success_at"] == utc_text(clock.now())


def test_merge_latest_transition_wins(db):
    clock = FakeClock()
    older, newer = monitor(clock, db=db, background=CollectingBackground()), None
    for _ in range(3):
        older.observe(failure())  # opens at t0
    clock.advance(1)
    newer_bg = CollectingBackground()
    newer = monitor(clock, db=db, background=newer_bg)
    newer.observe(row())  # closed, never transitioned
    asyncio.run(newer_bg.drain())
    asyncio.run(older._background.drain())  # the older isolate flushes last, its transition is later: open
    stored = asyncio.run(health_sql.all_rows(db))[0]
    assert stored["circuit_state"] == OPEN
    clock.advance(10)
    older.observe(row())  # the probe after the cool-down closes it (a later transition)
    asyncio.run(older._background.drain())
    later_bg = CollectingBackground()
    stale = monitor(clock, db=db, background=later_bg)
    stale.observe(failure())  # closed, no transition: must not overwrite the circuit
    asyncio.run(later_bg.drain())
    stored = asyncio.run(health_sql.all_rows(db))[0]
    assert stored["circuit_state"] == CLOSED and stored["opened_at"] is None
    assert stored["window_requests"] == 1  # the last writer's own window
    assert stored["last_error_at"] == utc_text(clock.now())
    assert stored["last_success_at"] == utc_text(clock.now())


def test_measured_is_ttft_else_latency_and_the_window_count():
    """What the router's `fastest` strategy reads: TTFT EWMA when streams reported one, else the latency
    EWMA; the count is every outcome in the window (failures included), and it drains as the window moves."""
    clock = FakeClock()
    mon = monitor(clock)
    assert mon.measured(MODEL) == (None, 0)
    mon.observe(row(latency=400.0))
    mon.observe(row(latency=200.0))
    assert mon.measured(MODEL) == (300.0, 2)  # no TTFT yet: latency EWMA (alpha 0.5)
    mon.observe(row(latency=900.0, ttft=80.0))
    mon.observe(failure())
    assert mon.measured(MODEL) == (80.0, 4)  # TTFT wins once there is one; the failure counts as a sample
    clock.advance(CFG.window_seconds + 1)
    assert mon.measured(MODEL) == (80.0, 0)  # the EWMA stays, the window's outcomes are gone
