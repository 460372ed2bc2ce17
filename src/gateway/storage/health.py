"""SQL for `model_health`: one row per model, written by every isolate that called it (docs/health.md).

How isolates merge: the circuit (state, opened_at, state_changed_at) is the one with the latest transition;
the window counts, consecutive failures and EWMAs are the flushing isolate's own view (the most recent
writer's); last error and last success keep the latest of the two.
"""

from __future__ import annotations

from typing import Any

from gateway.ports import Database, Statement
from gateway.timefmt import utc_text

_UPSERT = """
INSERT INTO model_health (model_id, provider_id, circuit_state, consecutive_failures, window_start,
    window_requests, window_errors, latency_ewma_ms, ttft_ewma_ms, last_error_type, last_error_at,
    last_success_at, opened_at, state_changed_at, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (model_id) DO UPDATE SET
    provider_id = excluded.provider_id,
    circuit_state = CASE WHEN COALESCE(excluded.state_changed_at, '') >= COALESCE(model_health.state_changed_at, '')
        THEN excluded.circuit_state ELSE model_health.circuit_state END,
    opened_at = CASE WHEN COALESCE(excluded.state_changed_at, '') >= COALESCE(model_health.state_changed_at, '')
        THEN excluded.opened_at ELSE model_health.opened_at END,
    state_changed_at = NULLIF(MAX(COALESCE(excluded.state_changed_at, ''), COALESCE(model_health.state_changed_at, '')), ''),
    consecutive_failures = excluded.consecutive_failures,
    window_start = excluded.window_start,
    window_requests = excluded.window_requests,
    window_errors = excluded.window_errors,
    latency_ewma_ms = COALESCE(excluded.latency_ewma_ms, model_health.latency_ewma_ms),
    ttft_ewma_ms = COALESCE(excluded.ttft_ewma_ms, model_health.ttft_ewma_ms),
    last_error_type = CASE WHEN COALESCE(excluded.last_error_at, '') >= COALESCE(model_health.last_error_at, '')
        THEN excluded.last_error_type ELSE model_health.last_error_type END,
    last_error_at = NULLIF(MAX(COALESCE(excluded.last_error_at, ''), COALESCE(model_health.last_error_at, '')), ''),
    last_success_at = NULLIF(MAX(COALESCE(excluded.last_success_at, ''), COALESCE(model_health.last_success_at, '')), ''),
    updated_at = excluded.updated_at
"""

_TIMES = ("window_start", "last_error_at", "last_success_at", "opened_at", "state_changed_at")


def as_row(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A monitor snapshot (epoch seconds) as the table's row (UTC text timestamps)."""
    row = dict(snapshot)
    for name in _TIMES:
        row[name] = utc_text(row[name]) if row.get(name) is not None else None
    return row


def upsert_statement(snapshot: dict[str, Any], now: float) -> Statement:
    row = as_row(snapshot)
    return Statement(_UPSERT, (
        row["model_id"], row["provider_id"], row["circuit_state"], row["consecutive_failures"], row["window_start"],
        row["window_requests"], row["window_errors"], row["latency_ewma_ms"], row["ttft_ewma_ms"],
        row["last_error_type"], row["last_error_at"], row["last_success_at"], row["opened_at"],
        row["state_changed_at"], utc_text(now),
    ))


async def all_rows(database: Database) -> list[dict[str, Any]]:
    result = await database.query(
        "SELECT model_id, provider_id, circuit_state, consecutive_failures, window_start, window_requests,"
        " window_errors, latency_ewma_ms, ttft_ewma_ms, last_error_type, NULLIF(last_error_at, '') AS last_error_at,"
        " NULLIF(last_success_at, '') AS last_success_at, opened_at, NULLIF(state_changed_at, '') AS state_changed_at,"
        " updated_at FROM model_health ORDER BY provider_id, model_id"
    )
    return result.rows
