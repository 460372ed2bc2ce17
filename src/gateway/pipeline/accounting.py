"""The usage row of a request, written after the response (never on the client's path)."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Callable, Mapping

from gateway.pipeline.context import RequestContext
from gateway.pipeline.cost import (
    FAILED, FAILED_ATTEMPT, NO_USAGE, NOT_SENT, Cost, chat_cost, estimated, neuron_cost, not_billed,
)
from gateway.pipeline.neurons import WORKERS_AI, row_neurons
from gateway.ports import Background, Database, DatabaseError, Statement
from gateway.storage import counters
from gateway.storage import usage as usage_sql
from gateway.timefmt import utc_text

log = logging.getLogger("gateway.accounting")

DAILY_FREE_NEURONS = 10_000.0  # WORKERS_AI_DAILY_NEURONS' default (settings.py): Cloudflare's free allocation


def usage_row(ctx: RequestContext, finished: float, *, estimate: str | None = None) -> dict[str, Any]:
    """The request's row, charged for its tokens (`cost.chat_cost`); `estimate` is the note of usage the
    gateway estimated (cost.STREAM_ESTIMATE, ...). Media pipelines charge their units over it (`charge`)."""
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
    entry = target.catalog_entry if target else None
    if ctx.status == "error":
        # Only what succeeded is billed; tokens a failure reported stay on the row for the record.
        if usage is not None:
            row.update(input_tokens=usage.input_tokens, cached_input_tokens=usage.cached_input_tokens,
                       output_tokens=usage.output_tokens, reasoning_tokens=usage.reasoning_tokens)
        return charge(row, not_billed(FAILED if ctx.upstream_seconds > 0 else NOT_SENT), entry)
    if usage is None:
        return charge(row, Cost(None, "none", NO_USAGE), entry)  # cost unknown, not zero
    row.update(
        input_tokens=usage.input_tokens,
        cached_input_tokens=usage.cached_input_tokens,
        output_tokens=usage.output_tokens,
        reasoning_tokens=usage.reasoning_tokens,
    )
    cost = chat_cost(usage, entry)
    return charge(row, estimated(cost, estimate) if estimate else cost, entry)


def charge(row: dict[str, Any], cost: Cost, entry: Mapping[str, Any] | None) -> dict[str, Any]:
    """The one place a usage row's cost columns are set: cost_usd, cost_status, cost_note and the
    price_version of the catalog entry that priced it. A cost that is not plainly priced must say why."""
    if cost.status != "priced" and not cost.note:
        raise ValueError(f"a {cost.status!r} cost needs a note (usage_log.cost_note)")
    row["cost_usd"], row["cost_status"], row["cost_note"] = cost.usd, cost.status, cost.note
    row["price_version"] = entry.get("price_version") if entry and cost.status != "none" else None
    return row


def unbilled(row: dict[str, Any], note: str = FAILED) -> dict[str, Any]:
    """A failed request's row: zero cost, whatever it produced before it failed (docs/fallbacks.md)."""
    return charge(row, not_billed(note), None)


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
    return unbilled(row, FAILED_ATTEMPT)


NEURON_ENTRY = "_neuron_entry"  # not a column: a Workers AI row's catalog entry, until it is written
BEFORE_FREE = "_before_free"    # not a column: a Workers AI row's cost before the free neurons were taken


def count_neurons(rows: list[dict[str, Any]]) -> None:
    """Sets row["neurons"] of each Workers AI row from its catalog rates (its units are complete now)."""
    for row in rows:
        entry = row.pop(NEURON_ENTRY, None)
        if entry is not None:
            row["neurons"] = row_neurons(row, entry)


def counter_statements(rows: list[dict[str, Any]]) -> list[Statement]:
    """What the rows add to the spend counters (key, user, org × day, month) and to the day's Workers AI
    neurons, summed per counter so a batch of rows costs one upsert per counter. Sets row["neurons"]."""
    count_neurons(rows)
    spend: dict[tuple[str, str], float] = {}
    neurons: dict[tuple[str, str], list[float]] = {}
    for row in rows:
        created = row.get("created_at") or ""
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


async def apply_free_neurons(db: Database, rows: list[dict[str, Any]], daily_free: float) -> None:
    """Charge the batch's Workers AI rows for their neurons past the day's free allocation (cost.neuron_cost).
    The day's total is read once per day in the batch, and only when the batch has Workers AI rows; each row
    then uses up what is left, in order. Unreadable: nothing is taken as free (a row is never under-billed)."""
    left: dict[str, float] = {}
    for row in rows:
        neurons = row.get("neurons") or 0.0
        if row.get("provider_id") != WORKERS_AI or neurons <= 0:
            continue
        day = (row.get("created_at") or "")[:10]
        if day not in left:
            try:
                used = sum(float(r["neurons"]) for r in await counters.neurons_on(db, day))
            except DatabaseError as exc:
                log.warning("day's neurons unreadable, batch billed without the free allocation: %s", type(exc).__name__)
                used = daily_free
            left[day] = daily_free - used
        if row.get("cost_status") != "none":  # a failure's neurons count toward the day, its cost stays 0
            # The cost before the split (kept: a batch written again row by row is split again, not twice).
            prior = row.setdefault(BEFORE_FREE, Cost(row.get("cost_usd"), row.get("cost_status") or "priced",
                                                     row.get("cost_note")))
            charge(row, neuron_cost(neurons, left[day], prior), {"price_version": row.get("price_version")})
        left[day] -= neurons


async def write_rows(db: Database, rows: list[dict[str, Any]], *, daily_free_neurons: float = DAILY_FREE_NEURONS) -> None:
    """The usage rows, their tags (usage_tags) and what they add to the counters, in one batch: all or
    nothing. Workers AI rows are charged against the day's free neurons first, so budgets count only the
    billed part."""
    count_neurons(rows)
    await apply_free_neurons(db, rows, daily_free_neurons)
    counted = counter_statements(rows)
    await db.batch([*(statement for row in rows for statement in usage_sql.row_statements(row)), *counted])


async def _write_one(db: Database, row: dict[str, Any], daily_free_neurons: float) -> None:
    """A row with its counters; if they cannot go in together, the row alone (the log outranks the counters)."""
    try:
        await write_rows(db, [row], daily_free_neurons=daily_free_neurons)
    except DatabaseError:
        await usage_sql.insert(db, row)
        log.warning("usage row %s written without its spend and neuron counters", row.get("request_id"))


class UsageRecorder:
    """Writes usage rows after the answer, batched: rows that finish close together share one write
    (one SQLite transaction locally, one D1 batch in the Worker). The first row of a batch schedules
    the flush on the Background port, so the runtime keeps it alive (waitUntil) until it is written."""

    def __init__(self, database: Database, background: Background, delay_seconds: float = 0.02, *,
                 daily_free_neurons: float = DAILY_FREE_NEURONS,
                 on_written: Callable[[list[dict[str, Any]]], Awaitable[None]] | None = None) -> None:
        self._db = database
        self._daily_free_neurons = daily_free_neurons
        self._background = background
        self._delay = delay_seconds
        self._pending: list[dict[str, Any]] = []
        self._on_written = on_written  # told of each batch once it is in (spend alerts: spend_watch.py)

    async def write_now(self, rows: list[dict[str, Any]]) -> None:
        """Write rows at once, not batched, raising DatabaseError (video billing must know its row is in).
        What follows a batch's write (the spend check) is deferred as it is for a batch: never on the caller."""
        await write_rows(self._db, rows, daily_free_neurons=self._daily_free_neurons)
        if self._on_written is not None:
            self._background.defer(self._on_written(rows))

    def record(self, row: dict[str, Any]) -> None:
        self._pending.append(row)
        if len(self._pending) == 1:
            self._background.defer(self._flush())

    async def _flush(self) -> None:
        if self._delay > 0:
            await asyncio.sleep(self._delay)  # let rows finishing meanwhile join this write
        rows, self._pending = self._pending, []
        try:
            await write_rows(self._db, rows, daily_free_neurons=self._daily_free_neurons)
        except DatabaseError:
            # One bad row must not lose the others: write them one by one (each with its counters).
            for row in rows:
                try:
                    await _write_one(self._db, row, self._daily_free_neurons)
                except DatabaseError:
                    # The answer has gone out; a lost row must be visible, but must not crash the isolate.
                    log.exception("usage row %s could not be written", row.get("request_id"))
        else:
            if self._on_written is not None:
                await self._on_written(rows)  # never raises; still off the client's path (this is deferred)
