"""The OpenAI Videos API (`/v1/videos`): create a generation job, poll it, download its file, list and
delete the caller's jobs. Not the hot path (a job takes minutes), so FastAPI routes; every failure is
the OpenAI envelope. The work is `pipeline/video.py`'s."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response, StreamingResponse

from gateway.api.responses import error_response, json_response
from gateway.api.schemas import VideoRequest
from gateway.api.validation import validate
from gateway.api.video_form import read_video_body
from gateway.core import Gateway
from gateway.errors import GatewayError, UpstreamError
from gateway.pipeline import tags
from gateway.pipeline.context import RequestContext
from gateway.pipeline.speech import MediaStreamResult

router = APIRouter(prefix="/v1/videos", tags=["OpenAI-compatible"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid request (error.param names the field), or a model that is not a video model"},
    401: {"description": "Missing or invalid gateway key"},
    404: {"description": "No such video for this caller, or unknown model"},
    429: {"description": "Rate limited upstream (Retry-After)"},
    502: {"description": "Upstream unreachable or failing"},
}


async def _serve(request: Request, work: Callable[[Gateway, RequestContext], Awaitable[Any]]) -> Response:
    gateway: Gateway = request.app.state.gateway
    ctx = gateway.new_context("video")
    clock = gateway.ports.clock
    try:
        await gateway.authenticate(ctx, request.headers)
        result = await work(gateway, ctx)
    except GatewayError as error:
        # A create gets its error row as every endpoint's request does; a poll, download, list or delete
        # only when the provider was asked and failed (a 404 for a made-up id is not usage).
        if isinstance(error, tags.InvalidTags):
            pass  # refused before anything ran: nothing to record
        elif request.method == "POST" or (isinstance(error, UpstreamError) and ctx.upstream_seconds > 0):
            gateway.video.fail(ctx, error)
        return error_response(error, ctx.response_headers(clock.monotonic()))
    headers = ctx.response_headers(clock.monotonic())
    if isinstance(result, MediaStreamResult):
        return StreamingResponse(result.chunks, media_type=result.media_type, headers=headers)
    return json_response(result, headers=headers)


@router.post("", summary="Create a video generation job (OpenAI, Gemini Veo)", responses=_ERRORS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": VideoRequest.model_json_schema()},
                 "multipart/form-data": {"schema": VideoRequest.model_json_schema()}}}})
async def create_video(request: Request) -> Response:
    async def work(gateway: Gateway, ctx: RequestContext) -> dict[str, Any]:
        ctx.tags = tags.request_tags(request.headers)
        raw = await request.body()
        body = read_video_body(raw, request.headers.get("content-type"), gateway.settings.max_body_bytes)
        validate(VideoRequest, body)
        return await gateway.video.create(ctx, body)

    return await _serve(request, work)


@router.get("", summary="The caller's video jobs, newest first", responses=_ERRORS)
async def list_videos(
    request: Request,
    limit: int = Query(20, ge=1, le=100),
    after: str | None = Query(None, description="the id of the last video of the previous page"),
    order: Literal["asc", "desc"] = Query("desc"),
) -> Response:
    return await _serve(request, lambda gateway, ctx: gateway.video.list(ctx, limit, after, order))


@router.get("/{video_id}", summary="A video job's status (asks the provider while it is not final)", responses=_ERRORS)
async def retrieve_video(request: Request, video_id: str) -> Response:
    return await _serve(request, lambda gateway, ctx: gateway.video.retrieve(ctx, video_id))


@router.get("/{video_id}/content", summary="The finished video's file, relayed from the provider",
            responses={**_ERRORS, 200: {"description": "The MP4 (or the thumbnail / spritesheet image)",
                                        "content": {"video/mp4": {"schema": {"type": "string", "format": "binary"}}}}})
async def video_content(
    request: Request, video_id: str,
    variant: Literal["video", "thumbnail", "spritesheet"] = Query("video"),
) -> Response:
    return await _serve(request, lambda gateway, ctx: gateway.video.content(ctx, video_id, variant))


@router.delete("/{video_id}", summary="Delete a finished video job", responses=_ERRORS)
async def delete_video(request: Request, video_id: str) -> Response:
    return await _serve(request, lambda gateway, ctx: gateway.video.delete(ctx, video_id))
