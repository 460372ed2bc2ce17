"""The emulator's Anthropic routes: `POST /anthropic/v1/messages` (the real path under /anthropic).

Auth as Anthropic does it: a key (`x-api-key`, or `Authorization: Bearer` as the 2.x SDK sends it; any
non-empty key) and an `anthropic-version` header are required, with Anthropic's own 401 and 400 bodies
otherwise. Knobs and faults are the shared ones (knobs.py); the mechanics (recording, delays, reset,
stall, SSE writing) are server.py's.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web

from scripts.emulator import anthropic_wire as wire, stream_shape
from scripts.emulator import server as base
from scripts.emulator.knobs import KnobError, parse_knobs

PREFIX = "/anthropic"


def register(router: web.UrlDispatcher) -> None:
    router.add_post(PREFIX + "/v1/messages", messages)


def _has_key(request: web.Request) -> bool:
    """`x-api-key`, or a bearer token: the official SDK (2.x) sends its API key as `Authorization: Bearer`."""
    if request.headers.get("x-api-key", "").strip():
        return True
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and bool(token.strip())


def _json(state: base.EmulatorState, status: int, body: dict, headers: dict[str, str] | None = None) -> web.Response:
    merged = {"request-id": body.get("request_id") or _request_id(state)}
    if status == 529 or status >= 500:
        merged["x-should-retry"] = "true"
    if headers:
        merged.update(headers)
    return web.Response(status=status, body=wire.encode(body), content_type="application/json", headers=merged)


def _request_id(state: base.EmulatorState) -> str:
    return f"req_emu_{state.next_id()}"


def _error(state: base.EmulatorState, status: int, error_type: str, message: str) -> web.Response:
    return _json(state, status, wire.error(error_type, message, _request_id(state)))


async def _fault(request: web.Request, state: base.EmulatorState, knobs, raw: bytes, model: str):
    """Faults that replace the whole answer, in Anthropic's error shapes; None lets the answer go on."""
    def error(fault: str):
        return wire.fault_error(fault, model, _request_id(state))

    return await base.answer_fault(
        request, state, knobs, raw, partial(_json, state), lambda: error("500-once"), error,
    )


async def messages(request: web.Request) -> web.StreamResponse:
    state, raw, body = await base._receive(request)
    if not _has_key(request):
        return _error(state, 401, "authentication_error", "x-api-key header is required")
    if not request.headers.get(wire.API_VERSION_HEADER, "").strip():
        return _error(state, 400, "invalid_request_error", "anthropic-version: header is required")
    if not isinstance(body, dict):
        return _error(state, 400, "invalid_request_error", "There was an issue with your request body: invalid JSON")
    problem = wire.validate(body)
    if problem:
        return _error(state, 400, "invalid_request_error", problem)
    try:
        knobs = parse_knobs(request.headers, wire.texts(body)).scoped(body["model"], request.path)
    except KnobError as exc:
        return _error(state, 400, "invalid_request_error", str(exc))
    config, model = state.config, body["model"]
    await base._sleep(base._ms(knobs.latency_ms, config.latency_ms))
    if (answered := await _fault(request, state, knobs, raw, model)) is not None:
        return answered
    reply = stream_shape.fit_to_chunks(wire.plan(body, knobs.fault), knobs.chunks)
    number = state.next_id()
    mid, tool_id = f"msg_emu_{number:024d}", f"toolu_emu_{number:020d}"
    slow = knobs.fault == "slow-first-token"
    slow_delay = base._ms(knobs.ttft_ms, config.slow_first_token_ms)
    if not body.get("stream"):
        await base._sleep(slow_delay if slow else 0)
        return _json(state, 200, wire.message(mid, model, reply, tool_id, wire.cached_tokens(body)))
    events = wire.stream_events(mid, model, reply, tool_id, knobs, wire.cached_tokens(body))
    first_delay = slow_delay if slow else base._ms(knobs.ttft_ms, config.ttft_ms)
    interval = base._ms(knobs.chunk_interval_ms, config.chunk_interval_ms)
    return await base._stream(request, state, events, first_delay, interval, cut=knobs.fault == "cut-stream",
                              stall=base.stall_seconds(knobs, config))
