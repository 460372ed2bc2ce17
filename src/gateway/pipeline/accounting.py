"""The usage row of a request, written after the response (never on the client's path)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable

from gateway.pipeline.context import RequestContext
from gateway.pipeline.cost import chat_cost
from gateway.pipeline.neurons import WORKERS_AI, row_neurons
from gateway.ports import Background, Database, DatabaseError, Statement
from gateway.storage import counters
from gateway.storage import usage as usage_sql
from gateway.timefmt import utc_text

log = logging.getLogger("gateway.accounting")


def usage_row(ctx: RequestContext, finished: float, *, estimated: bool = False) -> dict[str, Any]:
    caller = ctx.caller
    target = ctx.target
    usage = ctx.usage
    row: dict[str, Any] = {
        "request_id": ctx.request_id,
        "created_at": utc_text(ctx.received_at),
        "key_id": caller.key_id if caller else None,
        "user_id": caller.user_id if caller else None,
        "org_id": caller.org_id if caller else None,
        "tier_id": caller.tier_id if caller else None,
        "endpoint": ctx.endpoint,
        "requested_model": ctx.requested_model,
        "provider_id": target.provider_id if target else None,
        "model_id": target.model_id if target else None,
        "stream": int(ctx.stream),
        "status": ctx.status,
        "http_status": ctx.http_status,
        "error_type": ctx.error_type,
        "latency_ms": round((finished - ctx.started) * 1000.0, 3),
        "ttft_ms": round(ctx.ttft_seconds * 1000.0, 3) if ctx.ttft_seconds is not None else None,
        "overhead_ms": round(ctx.overhead_ms(finished), 3),
        "key_level": ctx.key_level,
        "attempts": ctx.attempts,
        "route_strategy": ctx.route_strategy,
        "tags": json.dumps(ctx.tags) if ctx.tags else None,
        "input_tokens": 0,
        "cached_input_tokens": 0,
        "output_tokens": 0,
        "reasoning_tokens": 0,
    }
    if target is not None and target.provider_id == WORKERS_AI:
        # Neurons are computed when the row is written (its units are complete then): keep the rates.
        row[NEURON_ENTRY] = target.catalog_entry or {}
    if usage is None:
        row["cost_usd"] = 0.0 if ctx.status == "error" else None
        row["cost_status"] = "none"
        return row
    row.update(
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
    )
    if ctx.status == "error":
        return unbilled(row)  # only what succeeded is billed; the tokens stay on the row for the record
    entry = target.catalog_entry if target else None
    cost, status = chat_cost(usage, entry)
    row["cost_usd"] = cost
    row["cost_status"] = "estimated" if estimated and cost is not None else status
    row["price_version"] = entry.get("price_version") if entry else None
    return row


def unbilled(row: dict[str, Any]) -> dict[str, Any]:
    """A failed request's row: zero cost, whatever it produced before it failed (docs/fallbacks.md)."""
    row["cost_usd"] = 0.0
    row["cost_status"] = "none"
    row["price_version"] = None
    return row


def attempt_row(ctx: RequestContext, number: int, started: float, finished: float, error: Any) -> dict[str, Any]:
    """The row of attempt `number` that failed and was followed by another: `<request_id>.<number>`,
    pointing at the request's own row, its latency its own, its cost zero."""
    row = usage_row(ctx, finished)
    row.update(
        request_id=f"{ctx.request_id}.{number}", attempt_of=ctx.request_id, status="error",
        http_status=error.status, error_type=error.error_type, latency_ms=round((finished - started) * 1000.0, 3),
        ttft_ms=None, overhead_ms=None, attempts=1, input_tokens=0, cached_input_tokens=0, output_tokens=0,
        reasoning_tokens=0, units=None,
    )
    return unbilled(row)


NEURON_ENTRY = "_neuron_entry"  # not a column: a Workers AI row's catalog entry, until it is written


def counter_statements(rows: list[dict[str, Any]]) -> list[Statement]:
    """What the rows add to the spend counters (key, user, org × day, month) and to the day's Workers AI
    neurons, summed per counter so a batch of rows costs one upsert per counter. Sets row["neurons"]."""
    spend: dict[tuple[str, str], float] = {}
    neurons: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        created = row.get("created_at") or ""
        entry = row.pop(NEURON_ENTRY, None)
        if entry is not None:
            row["neurons"] = row_neurons(row, entry)
        if row.get("neurons") and row.get("model_id"):  # a call that used some (not one refused before it ran)
            total = neurons.setdefault((created[:10], row["model_id"]), [0.0, 0])
            total[0] += row["neurons"]
            total[1] += 1
        cost = row.get("cost_usd")
        if not cost or cost <= 0:
            continue
        for owner in ("key", "user", "org"):
            if row.get(f"{owner}_id"):
                for period in (created[:10], created[:7]):
                    subject = (f"{owner}:{row[f'{owner}_id']}", period)
                    spend[subject] = spend.get(subject, 0.0) + float(cost)
    statements = [counters.add_spend(subject, period, usd) for (subject, period), usd in spend.items()]
    statements += [counters.add_neurons(day, model, total, int(count)) for (day, model), (total, count) in neurons.items()]
    return statements


async def write_rows(db: Database, rows: list[dict[str, Any]]) -> None:
    """The usage rows and what they add to the counters, in one batch: all or nothing."""
    counted = counter_statements(rows)
    await db.batch([*(usage_sql.insert_statement(row) for row in rows), *counted])


async def _write_one(db: Database, row: dict[str, Any]) -> None:
    """A row with its counters; if they cannot go in together, the row alone (the log outranks the counters)."""
    try:
        await write_rows(db, [row])
    except DatabaseError:
        await usage_sql.insert(db, row)
        log.warning("usage row %s written without its spend and neuron counters", row.get("request_id"))


class UsageRecorder:
    """Writes usage rows after the answer, batched: rows that finish close together share one write
    (one SQLite transaction locally, one D1 batch in the Worker). The first row of a batch schedules
    the flush on the Background port, so the runtime keeps it alive (waitUntil) until it is written."""

    def __init__(self, database: Database, background: Background, delay_seconds: float = 0.02,
                 on_written: Callable[[list[dict[str, Any]]], Awaitable[None]] | None = None) -> None:
        self._db = database
        self._background = background
        self._delay = delay_seconds
        self._pending: list[dict[str, Any]] = []
        self._on_written = on_written  # told of each batch once it is in (spend alerts: spend_watch.py)

    def record(self, row: dict[str, Any]) -> None:
        self._pending.append(row)
        if len(self._pending) == 1:
            self._background.defer(self._flush())

    async def _flush(self) -> None:
        if self._delay > 0:
            await asyncio.sleep(self._delay)  # let rows finishing meanwhile join this write
        rows, self._pending = self._pending, []
        try:
            await write_rows(self._db, rows)
        except DatabaseError:
            # One bad row must not lose the others: write them one by one (each with its counters).
            for row in rows:
                try:
                    await _write_one(self._db, row)
                except DatabaseError:
                    # The answer has gone out; a lost row must be visible, but must not crash the isolate.
                    log.exception("usage row %s could not be written", row.get("request_id"))
        else:
            if self._on_written is not None:
                await self._on_written(rows)  # never raises; still off the client's path (this is deferred)
