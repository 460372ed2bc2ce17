"""Live model health in the isolate, and a circuit breaker per model (docs/health.md).

Every usage row feeds `HealthMonitor.observe`: a success or a failure of the provider+model it names.
What counts as a failure is the provider's fault only: `server_error` (5xx, connection refused or reset),
`timeout` and `rate_limit`. The caller's own mistakes (invalid_request, context_length, content_filter),
auth, quota and model_not_found say nothing about the model's health and are not counted at all.

The breaker: closed -> open after `failure_threshold` consecutive failures, or when the window (the last
`window_seconds`) holds at least `min_samples` outcomes of which `error_rate` or more failed; open ->
half_open once `cooldown_seconds` have passed; half_open lets one probe through (`allow`): its success
closes the circuit (and starts a fresh window), its failure opens it again for another cool-down.
The router excludes open circuits (`is_open`) and the attempt loop asks `allow` before each attempt.

The state is flushed to `model_health` off the request path (the Background port), at most every
`flush_seconds`, merged with what other isolates wrote (storage/health.py says how).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from gateway.ports import Background, Clock, Database, DatabaseError
from gateway.storage import health as health_sql

log = logging.getLogger("gateway.health")

FAILURE_TYPES = frozenset({"server_error", "timeout", "rate_limit"})
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True, slots=True)
class HealthSettings:
    window_seconds: float = 60.0     # the rolling window of the success rate
    failure_threshold: int = 5       # consecutive failures that open the circuit
    error_rate: float = 0.5          # ... or this share of failures in the window
    min_samples: int = 10            # ... once the window holds at least this many outcomes
    cooldown_seconds: float = 30.0   # open -> half_open after this long
    ewma_alpha: float = 0.2          # weight of the newest latency / TTFT in their moving averages
    flush_seconds: float = 5.0       # at most one write to model_health per this many seconds


def outcome_of(row: dict[str, Any]) -> bool | None:
    """True: the model answered; False: the model failed; None: says nothing about the model."""
    if not row.get("model_id") or not row.get("provider_id"):
        return None
    if row.get("status") == "error":
        return False if row.get("error_type") in FAILURE_TYPES else None
    return True  # success, or cancelled by the client after the model answered


def _ewma(current: float | None, sample: float | None, alpha: float) -> float | None:
    if sample is None:
        return current
    return sample if current is None else current + alpha * (sample - current)


@dataclass(slots=True)
class ModelHealth:
    """One model's numbers and breaker. Times are wall-clock seconds from the injected clock."""

    provider_id: str
    model_id: str
    outcomes: deque = field(default_factory=deque)  # (time, ok) within the window
    errors: int = 0                                  # failures among `outcomes`, kept as they come and go
    consecutive_failures: int = 0
    latency_ewma_ms: float | None = None
    ttft_ewma_ms: float | None = None
    last_error_type: str | None = None
    last_error_at: float | None = None
    last_success_at: float | None = None
    state: str = CLOSED
    opened_at: float | None = None
    state_changed_at: float | None = None
    probe_at: float | None = None  # when half_open let its one probe through

    def _trim(self, now: float, window: float) -> None:
        while self.outcomes and self.outcomes[0][0] <= now - window:
            if not self.outcomes.popleft()[1]:
                self.errors -= 1

    def window_counts(self, now: float, window: float) -> tuple[int, int]:
        self._trim(now, window)
        return len(self.outcomes), self.errors

    def current_state(self, now: float, cfg: HealthSettings) -> str:
        if self.state == OPEN and self.opened_at is not None and now - self.opened_at >= cfg.cooldown_seconds:
            self._move(HALF_OPEN, now)
        return self.state

    def _move(self, state: str, now: float) -> None:
        self.state = state
        self.state_changed_at = now
        self.probe_at = None
        if state == OPEN:
            self.opened_at = now
        elif state == CLOSED:
            self.opened_at = None

    def allow(self, now: float, cfg: HealthSettings) -> bool:
        state = self.current_state(now, cfg)
        if state == CLOSED:
            return True
        if state == HALF_OPEN and (self.probe_at is None or now - self.probe_at >= cfg.cooldown_seconds):
            self.probe_at = now  # one probe; another only if this one never reports back
            return True
        return False

    def record(self, ok: bool, now: float, cfg: HealthSettings, *, latency_ms: float | None = None,
               ttft_ms: float | None = None, error_type: str | None = None) -> None:
        state = self.current_state(now, cfg)
        self._trim(now, cfg.window_seconds)
        self.outcomes.append((now, ok))
        self.errors += 0 if ok else 1
        if ok:
            self.consecutive_failures = 0
            self.last_success_at = now
            self.latency_ewma_ms = _ewma(self.latency_ewma_ms, latency_ms, cfg.ewma_alpha)
            self.ttft_ewma_ms = _ewma(self.ttft_ewma_ms, ttft_ms, cfg.ewma_alpha)
            if state == HALF_OPEN:
                self._move(CLOSED, now)
                self.outcomes, self.errors = deque([(now, True)]), 0  # the failures that opened it are history
            return
        self.consecutive_failures += 1
        self.last_error_type = error_type
        self.last_error_at = now
        if state == HALF_OPEN:
            self._move(OPEN, now)
        elif state == CLOSED and self._should_open(cfg):
            self._move(OPEN, now)
        # While open (cooling down), outcomes only update the numbers: the probe decides after the cool-down.

    def _should_open(self, cfg: HealthSettings) -> bool:
        if self.consecutive_failures >= cfg.failure_threshold:
            return True
        total = len(self.outcomes)
        return total >= cfg.min_samples and self.errors / total >= cfg.error_rate

    def snapshot(self, now: float, cfg: HealthSettings) -> dict[str, Any]:
        state = self.current_state(now, cfg)
        total, errors = self.window_counts(now, cfg.window_seconds)
        return {
            "model_id": self.model_id,
            "provider_id": self.provider_id,
            "circuit_state": state,
            "consecutive_failures": self.consecutive_failures,
            "window_start": now - cfg.window_seconds,
            "window_requests": total,
            "window_errors": errors,
            "latency_ewma_ms": self.latency_ewma_ms,
            "ttft_ewma_ms": self.ttft_ewma_ms,
            "last_error_type": self.last_error_type,
            "last_error_at": self.last_error_at,
            "last_success_at": self.last_success_at,
            "opened_at": self.opened_at,
            "state_changed_at": self.state_changed_at,
        }


class HealthMonitor:
    """The isolate's health of every model it has called; one per Ports (see `for_ports`)."""

    def __init__(self, clock: Clock, settings: HealthSettings, database: Database | None = None,
                 background: Background | None = None) -> None:
        self._clock = clock
        self.settings = settings
        self._db = database
        self._background = background
        self._models: dict[str, ModelHealth] = {}
        self._dirty: set[str] = set()
        self._flush_scheduled = False
        self._last_flush = float("-inf")

    def observe(self, row: dict[str, Any]) -> None:
        """Record one usage row (cheap: a few arithmetic operations; the write happens later)."""
        ok = outcome_of(row)
        if ok is None:
            return
        model_id = row["model_id"]
        health = self._models.get(model_id)
        if health is None:
            health = self._models[model_id] = ModelHealth(row["provider_id"], model_id)
        health.record(ok, self._clock.now(), self.settings, latency_ms=row.get("latency_ms"),
                      ttft_ms=row.get("ttft_ms"), error_type=row.get("error_type"))
        self._dirty.add(model_id)
        self._schedule_flush()

    def allow(self, model_id: str) -> bool:
        """May a request go to this model now? (half_open: the one probe says yes.)"""
        health = self._models.get(model_id)
        return True if health is None else health.allow(self._clock.now(), self.settings)

    def is_open(self, model_id: str) -> bool:
        health = self._models.get(model_id)
        return health is not None and health.current_state(self._clock.now(), self.settings) == OPEN

    def measured(self, model_id: str) -> tuple[float | None, int]:
        """(TTFT EWMA, else latency EWMA, in ms; the outcomes in the current window): what the router's
        `fastest` strategy corrects the catalog's speed score with. (None, 0) for a model never called."""
        health = self._models.get(model_id)
        if health is None:
            return None, 0
        total, _ = health.window_counts(self._clock.now(), self.settings.window_seconds)
        ms = health.ttft_ewma_ms if health.ttft_ewma_ms is not None else health.latency_ewma_ms
        return ms, total

    def snapshots(self) -> dict[str, dict[str, Any]]:
        now = self._clock.now()
        return {model_id: health.snapshot(now, self.settings) for model_id, health in self._models.items()}

    def _schedule_flush(self) -> None:
        if self._flush_scheduled or self._db is None or self._background is None:
            return
        self._flush_scheduled = True
        self._background.defer(self._flush())

    async def _flush(self) -> None:
        wait = self._last_flush + self.settings.flush_seconds - self._clock.now()
        if wait > 0:
            await asyncio.sleep(wait)  # rows finishing meanwhile join this write
        self._flush_scheduled = False
        self._last_flush = self._clock.now()
        dirty, self._dirty = self._dirty, set()
        now = self._clock.now()
        snaps = [self._models[m].snapshot(now, self.settings) for m in sorted(dirty)]
        try:
            await self._db.batch([health_sql.upsert_statement(s, now) for s in snaps])  # type: ignore[union-attr]
        except DatabaseError:
            log.exception("model health for %d models could not be written", len(snaps))
            self._dirty |= dirty  # try again with the next flush


_MONITORS: dict[int, tuple[Any, HealthMonitor]] = {}


def monitor_for(ports: Any, settings: HealthSettings) -> HealthMonitor:
    """The one monitor of these ports (an isolate has one Ports; tests build one per gateway), so every
    pipeline and the admin route share it without threading it through each constructor."""
    entry = _MONITORS.get(id(ports))
    if entry is None or entry[0] is not ports:
        entry = (ports, HealthMonitor(ports.clock, settings, ports.database, ports.background))
        _MONITORS[id(ports)] = entry
    return entry[1]
