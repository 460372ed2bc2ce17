"""Asynchronous provider jobs (video generation) in `async_jobs`: named SQL, nothing else.

A caller sees the jobs of its key's owner: the user's jobs when the key belongs to a user, else the
key's own. The state of a job that is final (completed, failed) is never overwritten, and billing is
claimed by one atomic update, so concurrent polls bill a job once."""

from __future__ import annotations

from typing import Any

from gateway.pipeline.context import Caller
from gateway.ports import Database

JOB_COLUMNS = (
    "id", "kind", "request_id", "key_id", "user_id", "org_id", "tier_id", "key_level", "provider_id", "model_id",
    "upstream_job_id", "status", "progress", "seconds", "size", "request", "result", "error", "completed_at",
    "expires_at", "polled_at", "created_at", "updated_at", "cost_usd", "tags",
)
STATE_COLUMNS = ("status", "progress", "seconds", "result", "error", "completed_at", "expires_at", "cost_usd")


def _owner(caller: Caller) -> tuple[str, tuple[Any, ...]]:
    if caller.user_id is not None:
        return "user_id = ?", (caller.user_id,)
    return "user_id IS NULL AND key_id = ?", (caller.key_id,)


async def insert(db: Database, job: dict[str, Any]) -> None:
    columns = [c for c in JOB_COLUMNS if c in job]
    await db.query(
        f"INSERT INTO async_jobs ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
        [job[c] for c in columns],
    )


async def get(db: Database, job_id: str) -> dict[str, Any] | None:
    result = await db.query("SELECT * FROM async_jobs WHERE id = ?", (job_id,))
    return result.rows[0] if result.rows else None


async def get_owned(db: Database, job_id: str, caller: Caller) -> dict[str, Any] | None:
    where, params = _owner(caller)
    result = await db.query(f"SELECT * FROM async_jobs WHERE id = ? AND kind = 'video' AND {where}", (job_id, *params))
    return result.rows[0] if result.rows else None


async def list_owned(
    db: Database, caller: Caller, limit: int, after: dict[str, Any] | None, ascending: bool
) -> list[dict[str, Any]]:
    """One page of the owner's jobs by (created_at, id), after the job `after` when given."""
    where, params = _owner(caller)
    sql = f"SELECT * FROM async_jobs WHERE kind = 'video' AND {where}"
    op, order = (">", "ASC") if ascending else ("<", "DESC")
    if after is not None:
        sql += f" AND (created_at, id) {op} (?, ?)"
        params = (*params, after["created_at"], after["id"])
    sql += f" ORDER BY created_at {order}, id {order} LIMIT ?"
    result = await db.query(sql, (*params, limit))
    return result.rows


async def update_state(db: Database, job_id: str, state: dict[str, Any], polled_at: str) -> dict[str, Any] | None:
    """Record what the provider said; a job already final keeps its final state. Answers the row as
    stored afterwards."""
    sets = ", ".join(f"{c} = ?" for c in STATE_COLUMNS)
    await db.query(
        f"UPDATE async_jobs SET {sets}, polled_at = ?, updated_at = ? "
        f"WHERE id = ? AND status NOT IN ('completed', 'failed')",
        [state.get(c) for c in STATE_COLUMNS] + [polled_at, polled_at, job_id],
    )
    return await get(db, job_id)


async def mark_polled(db: Database, job_id: str, polled_at: str) -> None:
    """A poll that failed still counts as asked, so the poller moves on to other jobs."""
    await db.query("UPDATE async_jobs SET polled_at = ? WHERE id = ?", (polled_at, job_id))


async def claim_billing(db: Database, job_id: str) -> bool:
    """True for exactly one caller per final job: the one whose update flipped `billed`."""
    result = await db.query(
        "UPDATE async_jobs SET billed = 1 WHERE id = ? AND billed = 0 AND status IN ('completed', 'failed') "
        "RETURNING id",
        (job_id,),
    )
    return bool(result.rows)


async def release_billing(db: Database, job_id: str) -> None:
    """The usage row could not be written: let a later poll bill the job again."""
    await db.query("UPDATE async_jobs SET billed = 0 WHERE id = ?", (job_id,))


async def due(db: Database, limit: int) -> list[dict[str, Any]]:
    """Jobs the poller should look at: unfinished ones, longest-unasked first, then final ones whose
    billing has not happened (a crash between the two)."""
    unfinished = await db.query(
        "SELECT * FROM async_jobs WHERE status IN ('queued', 'in_progress') "
        "ORDER BY polled_at IS NOT NULL, polled_at, created_at LIMIT ?",
        (limit,),
    )
    rows = unfinished.rows
    if len(rows) < limit:
        unbilled = await db.query(
            "SELECT * FROM async_jobs WHERE status IN ('completed', 'failed') AND billed = 0 "
            "ORDER BY updated_at LIMIT ?",
            (limit - len(rows),),
        )
        rows += unbilled.rows
    return rows


async def delete(db: Database, job_id: str) -> None:
    await db.query("DELETE FROM async_jobs WHERE id = ?", (job_id,))
