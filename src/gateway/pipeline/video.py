"""Video generation as asynchronous jobs (`/v1/videos`): create a provider job and keep it in
`async_jobs` under the gateway's own id; report it, asking the provider while it is not final; relay
its file; list and delete the caller's jobs.

Billing: one usage row per job, written when the job is first seen final (by a client's poll or by the
scheduled poller, whichever comes first), under the create call's request id, `units` `{"seconds": N}`
and the job id in `tags`. The claim is one atomic update of `billed`, so concurrent polls bill once; a
failed job gets a row with status `error` and cost 0. A create call the provider refuses gets the usual
error row (nothing is stored). Polls and downloads are not billed: they get no row when they succeed,
and an error row when the provider fails them (so provider trouble stays visible in the usage log).
A job the provider answers 404 for (expired or deleted there) is failed (`upstream_job_not_found`):
it would never finish, and the poller must not ask about it forever.
"""

from __future__ import annotations

import logging
from typing import Any, AsyncIterator
from urllib.parse import urljoin, urlsplit

from gateway.errors import ErrorCategory, GatewayError, InvalidRequestError, NotFoundError, UpstreamError
from gateway.pipeline.context import Caller, RequestContext
from gateway.pipeline.credentials import KeyPin
from gateway.pipeline.endpoint import EndpointPipeline, Route
from gateway.pipeline import video_jobs
from gateway.pipeline.speech import MediaStreamResult
from gateway.pipeline.upstream import open_response, read_json
from gateway.ports import DatabaseError, UpstreamResponse
from gateway.providers.base import UpstreamRequest, VideoJobState
from gateway.storage import jobs as jobs_sql
from gateway.timefmt import utc_text

log = logging.getLogger("gateway.video")

VARIANTS = ("video", "thumbnail", "spritesheet")
REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 3


class VideoPipeline(EndpointPipeline):
    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        """Start a provider job for a validated request; answers the queued video object."""
        ctx.requested_model = body["model"]
        route = await self._route(ctx, starts_work=True)
        seconds, size = route.adapter.job_shape(body, ctx.target.upstream_model)
        model = ctx.target.upstream_model
        response = await self.send(ctx, route, lambda endpoint: route.adapter.build_create(body, model, endpoint))
        try:
            state = route.adapter.parse_created(await read_json(self._ports.clock, ctx, response))
        except UpstreamError as error:
            raise error.attribute_to(ctx.target.provider_id)
        finally:
            response.close()
        job = video_jobs.new_job(ctx, body, state, seconds, size, self._ports.clock.now())
        await jobs_sql.insert(self._ports.database, job)
        if job["status"] in video_jobs.FINAL:
            await self._bill(job)
        return video_jobs.video_object(job)

    async def retrieve(self, ctx: RequestContext, job_id: str) -> dict[str, Any]:
        job = await self._owned(ctx, job_id)
        job = await self._settle(ctx, job)
        return video_jobs.video_object(job)

    async def content(self, ctx: RequestContext, job_id: str, variant: str) -> MediaStreamResult:
        if variant not in VARIANTS:
            raise InvalidRequestError(f"Invalid value for 'variant': {variant!r} (one of {', '.join(VARIANTS)}).",
                                      param="variant")
        job = await self._owned(ctx, job_id)
        if job["status"] not in video_jobs.FINAL:
            job = await self._settle(ctx, job)
        if job["status"] != "completed":
            raise InvalidRequestError(f"Video '{job_id}' is {job['status']}; its content exists once it is completed.",
                                      param="video_id", code="video_not_ready")
        ctx.requested_model = job["model_id"]
        route = await self._route(ctx, job=job)
        request = route.adapter.build_content(job["upstream_job_id"], video_jobs.result_of(job), variant, route.endpoint)
        try:
            response = await self._open_content(ctx, route, request)
        except UpstreamError as error:
            if error.upstream_status == 404:  # not a missing model: the provider's file is gone (expired)
                raise NotFoundError(f"The provider no longer has the file of video '{job_id}' (it expires after a "
                                    "while); generate it again.", param="video_id", code="video_content_expired") from error
            raise
        media_type = response.headers.get("content-type") or "application/octet-stream"
        return MediaStreamResult(_relay(response), media_type)

    async def list(self, ctx: RequestContext, limit: int, after: str | None, order: str) -> dict[str, Any]:
        assert ctx.caller is not None
        anchor = None
        if after is not None:
            anchor = await jobs_sql.get_owned(self._ports.database, after, ctx.caller)
            if anchor is None:
                raise InvalidRequestError(f"No video '{after}' to list after.", param="after")
        rows = await jobs_sql.list_owned(self._ports.database, ctx.caller, limit + 1, anchor, order == "asc")
        data = [video_jobs.video_object(row) for row in rows[:limit]]
        return {"object": "list", "data": data, "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None, "has_more": len(rows) > limit}

    async def delete(self, ctx: RequestContext, job_id: str) -> dict[str, Any]:
        """Forget a finished job (billed first if it was not yet). The provider's copy expires on its own."""
        job = await self._owned(ctx, job_id)
        if job["status"] not in video_jobs.FINAL:
            job = await self._settle(ctx, job)
        if job["status"] not in video_jobs.FINAL:
            raise InvalidRequestError(f"Video '{job_id}' is still {job['status']}; only a completed or failed "
                                      "video can be deleted.", param="video_id", code="video_not_finished")
        await self._bill(job)
        await jobs_sql.delete(self._ports.database, job_id)
        return {"id": job_id, "object": "video.deleted", "deleted": True}

    async def poll_due(self, limit: int) -> int:
        """The scheduled poller: ask the provider about up to `limit` jobs, bill the ones found final.
        One job's failure is logged and does not stop the others. Answers how many jobs were looked at."""
        jobs = await jobs_sql.due(self._ports.database, limit)
        for job in jobs:
            ctx = self._job_context(job)
            try:
                await self._settle(ctx, job)
            except GatewayError as error:
                log.warning("video job %s: poll failed: %s", job["id"], error.message)
            except DatabaseError:
                log.exception("video job %s: poll could not be recorded", job["id"])
        return len(jobs)

    # ---- internals -------------------------------------------------------------------------------

    async def _open_content(self, ctx: RequestContext, route: Route, request: UpstreamRequest) -> UpstreamResponse:
        """Open the file, following the provider's redirects (Together's short link answers one): at most
        `MAX_REDIRECTS`, to http(s) only, never downgraded from https, and with no headers at all — a
        redirect target is not the provider's API, so no key goes with it."""
        for hop in range(MAX_REDIRECTS + 1):
            response = await open_response(route.http, self._ports.clock, ctx, route.adapter, request, self.timeouts(ctx))
            location = response.headers.get("location")
            if response.status not in REDIRECTS or not location:
                return response
            response.close()
            target = urljoin(request.url, location)
            scheme = urlsplit(target).scheme
            if hop == MAX_REDIRECTS or scheme not in ("http", "https") or (
                    urlsplit(request.url).scheme == "https" and scheme != "https"):
                break
            request = UpstreamRequest("GET", target, {}, None)
        raise UpstreamError(ErrorCategory.SERVER_ERROR, "the provider's video download redirects too often or to a "
                            "URL that is not fetched", code="untrusted_download_host",
                            provider=ctx.target.provider_id if ctx.target else "")

    async def _route(self, ctx: RequestContext, *, starts_work: bool = False, job: dict[str, Any] | None = None
                     ) -> Route:
        """Only a create starts provider work (and must fit the budgets); polls and downloads of a job
        already started never do, so a budget spent by its own bill cannot strand it. They use the key the
        job was created with (its owner's, at its level): the provider account that holds the job."""
        pin = KeyPin(job["key_level"], _owner(job)) if job is not None and job.get("key_level") else None
        return await self.route(ctx, modality="video", capability="video", label="video generation",
                                starts_work=starts_work, pin=pin)

    async def _owned(self, ctx: RequestContext, job_id: str) -> dict[str, Any]:
        assert ctx.caller is not None
        job = await jobs_sql.get_owned(self._ports.database, job_id, ctx.caller)
        if job is None:  # another owner's job is as unknown as a made-up id: ids cannot be probed
            raise NotFoundError(f"No video found with id '{job_id}'.", param="video_id", code="video_not_found")
        return job

    async def _settle(self, ctx: RequestContext, job: dict[str, Any]) -> dict[str, Any]:
        """Ask the provider when the job is not final, record the answer, bill it once final."""
        if job["status"] not in video_jobs.FINAL:
            job = await self._refresh(ctx, job)
        if job["status"] in video_jobs.FINAL and not job.get("billed"):
            await self._bill(job)
        return job

    async def _refresh(self, ctx: RequestContext, job: dict[str, Any]) -> dict[str, Any]:
        clock, db = self._ports.clock, self._ports.database
        ctx.requested_model = job["model_id"]
        route = await self._route(ctx, job=job)
        request = route.adapter.build_status(job["upstream_job_id"], route.endpoint)
        try:
            response = await open_response(route.http, clock, ctx, route.adapter, request, self.timeouts(ctx))
            try:
                state = route.adapter.parse_status(await read_json(clock, ctx, response))
            finally:
                response.close()
        except UpstreamError as error:
            if error.upstream_status != 404:
                await jobs_sql.mark_polled(db, job["id"], utc_text(clock.now()))
                raise
            # The provider no longer knows the job (expired, deleted there): it will never finish.
            state = VideoJobState("failed", 100, error={"code": "upstream_job_not_found", "message": error.message})
        except GatewayError:
            await jobs_sql.mark_polled(db, job["id"], utc_text(clock.now()))
            raise
        now = clock.now()
        columns = video_jobs.state_columns(state, now, job["seconds"])
        return await jobs_sql.update_state(db, job["id"], columns, utc_text(now)) or job

    async def _bill(self, job: dict[str, Any]) -> None:
        db = self._ports.database
        if not await jobs_sql.claim_billing(db, job["id"]):
            return  # billed already, by another poll
        try:
            entry = (await self._catalog.get()).resolve(job["model_id"]).catalog_entry
        except GatewayError:  # the provider left the catalog since: the row is kept, unpriced
            entry = None
        try:
            await self._usage.write_now([video_jobs.usage_row(job, entry)])  # the row and its spend, together
        except DatabaseError as exc:
            if "UNIQUE" in str(exc):  # the row is there already: billed, whatever the flag said
                return
            log.exception("video job %s: usage row could not be written; left for the next poll", job["id"])
            await jobs_sql.release_billing(db, job["id"])

    def _job_context(self, job: dict[str, Any]) -> RequestContext:
        clock = self._ports.clock
        return RequestContext(
            request_id=f"poll_{job['id']}", endpoint="video", started=clock.monotonic(), received_at=clock.now(),
            caller=_owner(job),
        )


def _owner(job: dict[str, Any]) -> Caller:
    """The job's creator as a caller: whose credentials reach the provider account that holds the job."""
    return Caller(job["key_id"], job["user_id"], job["org_id"], job.get("tier_id"))


async def _relay(response: UpstreamResponse) -> AsyncIterator[bytes]:
    """The provider's file out as it arrives (a video is megabytes: never buffered whole)."""
    try:
        async for chunk in response.iter_bytes():
            if chunk:
                yield chunk
    finally:
        response.close()
