"""A video job as the gateway keeps it, in pure functions: the row written at creation, the OpenAI
video object rendered from a row, what a provider's answer changes in a row, and the job's usage row.

Times are stored as the database's UTC text and answered as unix seconds, as OpenAI does."""

from __future__ import annotations

import calendar
import json
import os
import time
from typing import Any, Mapping

from gateway.pipeline.context import RequestContext
from gateway.pipeline.accounting import charge
from gateway.pipeline.cost import FAILED, not_billed, priced, video_cost
from gateway.providers.base import VideoJobState
from gateway.timefmt import utc_text

FINAL = ("completed", "failed")
# Request fields kept with the job (an uploaded reference image is not: it can be megabytes).
NOT_KEPT = ("input_reference",)


def new_job_id() -> str:
    return "video_" + os.urandom(16).hex()


def unix(text: str | None) -> int | None:
    """'YYYY-MM-DD HH:MM:SS.SSS' (UTC) → unix seconds."""
    if not text:
        return None
    return calendar.timegm(time.strptime(text[:19], "%Y-%m-%d %H:%M:%S"))


def new_job(ctx: RequestContext, body: Mapping[str, Any], state: VideoJobState, seconds: int, size: str,
            now: float) -> dict[str, Any]:
    caller, target = ctx.caller, ctx.target
    assert caller is not None and target is not None and state.upstream_id
    kept = {k: v for k, v in body.items() if k not in NOT_KEPT}
    if "input_reference" in body:
        kept["input_reference"] = "(given)"
    stamp = utc_text(now)
    return {
        "id": new_job_id(), "kind": "video", "request_id": ctx.request_id,
        "key_id": caller.key_id, "user_id": caller.user_id, "org_id": caller.org_id, "tier_id": caller.tier_id,
        "key_level": ctx.key_level, "provider_id": target.provider_id, "model_id": target.model_id,
        "upstream_job_id": state.upstream_id, "seconds": seconds, "size": size,
        "request": json.dumps(kept, ensure_ascii=False), "created_at": stamp, "updated_at": stamp,
        "polled_at": stamp, "tags": json.dumps(ctx.tags) if ctx.tags else None, **state_columns(state, now, seconds),
    }


def state_columns(state: VideoJobState, now: float, requested_seconds: int | None) -> dict[str, Any]:
    """The columns a provider's answer sets. A completed job's seconds are the provider's when it says."""
    final = state.status in FINAL
    return {
        "status": state.status,
        "progress": 100 if state.status == "completed" else state.progress,
        "seconds": state.seconds or requested_seconds,
        "result": json.dumps(state.result) if state.result is not None else None,
        "error": json.dumps(state.error) if state.error is not None else None,
        "completed_at": utc_text(now) if final else None,
        "expires_at": utc_text(state.expires_at) if state.expires_at else None,
        "cost_usd": state.cost_usd if state.status == "completed" else None,
    }


def video_object(job: Mapping[str, Any]) -> dict[str, Any]:
    """The OpenAI video object of a job (the gateway's id and `provider/model`, never the provider's id)."""
    request = json.loads(job["request"] or "{}")
    error = json.loads(job["error"]) if job.get("error") else None
    return {
        "id": job["id"],
        "object": "video",
        "model": job["model_id"],
        "status": job["status"],
        "progress": job["progress"] or 0,
        "created_at": unix(job["created_at"]),
        "completed_at": unix(job.get("completed_at")),
        "expires_at": unix(job.get("expires_at")),
        "prompt": request.get("prompt"),
        "seconds": str(job["seconds"]) if job.get("seconds") is not None else None,
        "size": job.get("size"),
        "remixed_from_video_id": None,
        "error": error,
    }


def result_of(job: Mapping[str, Any]) -> dict[str, Any] | None:
    return json.loads(job["result"]) if job.get("result") else None


def usage_row(job: Mapping[str, Any], model: Mapping[str, Any] | None) -> dict[str, Any]:
    """The one usage row of a finished job, under the create call's request id: a completed job is billed
    what the provider reported it cost when it did (`cost_usd`: Together, xAI), else the catalog's price
    for its seconds (`cost.video_cost`); a failed one costs nothing. Latency is creation to completion."""
    completed = job["status"] == "completed"
    created, finished = unix(job["created_at"]), unix(job.get("completed_at")) or unix(job["updated_at"])
    seconds = int(job["seconds"] or 0) if completed else 0
    error = json.loads(job["error"]) if job.get("error") else {}
    row: dict[str, Any] = {
        "request_id": job["request_id"], "created_at": job["created_at"],
        "key_id": job["key_id"], "user_id": job["user_id"], "org_id": job["org_id"], "tier_id": job.get("tier_id"),
        "endpoint": "video", "requested_model": json.loads(job["request"] or "{}").get("model"),
        "provider_id": job["provider_id"], "model_id": job["model_id"], "stream": 0,
        "status": "success" if completed else "error",
        "http_status": 200,
        "error_type": None if completed else str(error.get("code") or "video_generation_failed"),
        "latency_ms": float((finished - created) * 1000) if created is not None and finished is not None else None,
        "key_level": job.get("key_level"), "attempts": 1,
        # The creating request's tags (kept with the job), and the job's own video_id.
        "tags": json.dumps({**json.loads(job.get("tags") or "{}"), "video_id": job["id"]}),
        "units": json.dumps({"seconds": seconds}),
        "input_tokens": 0, "cached_input_tokens": 0, "output_tokens": 0, "reasoning_tokens": 0,
    }
    if completed and job.get("cost_usd") is not None:
        return charge(row, priced(float(job["cost_usd"])), model)
    if completed:
        return charge(row, video_cost(seconds, job.get("size"), model), model)
    return charge(row, not_billed(FAILED), None)
