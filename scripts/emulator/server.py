"""The emulator's HTTP server: a real aiohttp app on loopback that answers like a provider.

Shared mechanics (recording, delays, transport faults, SSE writing) live here; each provider's bodies and
error envelopes live in a sibling `<provider>_wire.py`, and its routes are registered in `create_app`.
Kept cheap per request because the benchmark runs it on the same small box as the gateway: no middleware,
no access log, one JSON parse, one write for a stream when no chunk interval is asked for.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass
from functools import partial
from typing import Callable

from aiohttp import web

from scripts.emulator import openai_wire as wire
from scripts.emulator import stream_shape
from scripts.emulator.knobs import KnobError, Knobs, parse_knobs

RECORDED_REQUESTS = 500


@dataclass
class EmulatorConfig:
    latency_ms: int = 0  # before a non-stream answer / before stream headers
    ttft_ms: int = 0  # extra delay before the first stream chunk
    chunk_interval_ms: int = 0  # between stream events
    stall_seconds: float = 300  # cap for the `stall` fault
    slow_first_token_ms: int = 5000  # delay of the `slow-first-token` fault
    stall_mid_stream_ms: int = 30000  # pause of the `stall-mid-stream` fault (knob `stall_ms`)


class EmulatorState:
    """Everything the app remembers between requests; one per app, so parallel emulators never share."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.requests: deque[dict] = deque(maxlen=RECORDED_REQUESTS)
        self.failed_once: set[str] = set()  # keys of `500-once` faults that already failed
        self.flaps: dict[str, int] = {}  # `flap` fault key -> requests seen with it
        self.shutting_down = False  # lets stalled requests end at once when the server stops
        self.video_jobs: dict[str, dict] = {}  # video_routes' jobs by their id (OpenAI) or operation name (Gemini)
        self._ids = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)


STATE = web.AppKey("emulator_state", EmulatorState)
_INVALID_JSON = object()


def create_app(config: EmulatorConfig | None = None) -> web.Application:
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app[STATE] = EmulatorState(config or EmulatorConfig())
    app.on_shutdown.append(_on_shutdown)
    router = app.router
    router.add_get("/_emulator/requests", _list_requests)
    router.add_delete("/_emulator/requests", _clear_requests)
    router.add_get("/_emulator/redirect", _redirect)
    router.add_post("/v1/chat/completions", chat_completions)
    router.add_post("/v1/embeddings", embeddings)
    router.add_get("/v1/models", list_models)
    router.add_get("/v1/models/{model}", retrieve_model)
    # Other providers' routes build on this module's mechanics, hence imported here, not at the top.
    from scripts.emulator import (
        anthropic_routes, audio_routes, compatible_routes, gemini_routes, images_routes, video_routes,
        transcription_routes, workers_ai_routes,
    )

    images_routes.register(router)  # first: gemini's and Workers AI's catch-all paths would take its routes
    video_routes.register(router)  # first: /gemini/…:predictLongRunning before gemini_routes' {model_action}
    anthropic_routes.register(router)  # before the /v1 catch-all: /anthropic/v1/messages is its own path
    transcription_routes.register(router)  # before gemini/workers_ai: audio on their paths is a transcription
    gemini_routes.register(router)
    compatible_routes.register(router)  # DeepSeek, Groq, xAI, Perplexity, Together
    workers_ai_routes.register(router)  # Cloudflare's REST API under /cloudflare/client/v4
    audio_routes.register(router)  # OpenAI /v1/audio/speech, ElevenLabs under /elevenlabs
    router.add_route("*", "/v1/{tail:.*}", unknown_route)
    return app


async def _on_shutdown(app: web.Application) -> None:
    app[STATE].shutting_down = True


# ---- inspection (no auth: tests and the demo read what the gateway sent) ---------------------------


async def _list_requests(request: web.Request) -> web.Response:
    return web.json_response(list(request.app[STATE].requests))


async def _clear_requests(request: web.Request) -> web.Response:
    request.app[STATE].requests.clear()
    return web.json_response({"cleared": True})


async def _redirect(request: web.Request) -> web.Response:
    """A 302 to `?to=` (tests check that the HTTP ports answer redirects instead of following them)."""
    raise web.HTTPFound(request.query.get("to", "/"))


# ---- shared mechanics ------------------------------------------------------------------------------


async def _receive(request: web.Request) -> tuple[EmulatorState, bytes, object]:
    """Read and parse the body once, and record the request (before auth, so rejected ones show too)."""
    state = request.app[STATE]
    raw = await request.read()
    body: object = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            body = _INVALID_JSON
    recorded = raw.decode(errors="replace") if body is _INVALID_JSON else body
    state.requests.append(
        {"method": request.method, "path": request.path, "query": request.query_string,
         "headers": dict(request.headers), "body": recorded}
    )
    return state, raw, body


def _json(state: EmulatorState, status: int, body: dict, headers: dict[str, str] | None = None) -> web.Response:
    base = {"x-request-id": f"req_emu_{state.next_id()}", "openai-processing-ms": "1"}
    if headers:
        base.update(headers)
    return web.Response(status=status, body=wire.encode(body), content_type="application/json", headers=base)


REJECTED_KEY_PREFIX = "rejected-"  # a key starting so is one the provider does not know (revoked, mistyped)
EXHAUSTED_KEY_PREFIX = "exhausted-"  # a key starting so is valid, its account out of credit


def _auth_error(request: web.Request, state: EmulatorState) -> web.Response | None:
    """Any non-empty Bearer key is accepted, except one starting with REJECTED_KEY_PREFIX: 401 invalid_api_key,
    and one starting with EXHAUSTED_KEY_PREFIX: 429 insufficient_quota."""
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    key = key.strip()
    if scheme.lower() == "bearer" and key.startswith(EXHAUSTED_KEY_PREFIX):
        return _json(state, 429, wire.insufficient_quota())
    if scheme.lower() == "bearer" and key and not key.startswith(REJECTED_KEY_PREFIX):
        return None
    return _json(state, 401, wire.invalid_api_key(key))


def _ms(knob: int | None, default: float) -> float:
    return (default if knob is None else knob) / 1000


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


async def _reset(request: web.Request) -> web.Response:
    """Drop the connection without a response; the Response returned is never sent (the write fails)."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response(status=500)


async def _hold(request: web.Request, seconds: float) -> None:
    """Wait `seconds`, ending early once the client hangs up or the server stops."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    state = request.app[STATE]
    while (transport := request.transport) is not None and not transport.is_closing():
        left = deadline - loop.time()
        if left <= 0 or state.shutting_down:
            break
        await asyncio.sleep(min(0.1, left))


async def _stall(request: web.Request, seconds: float) -> web.Response:
    """Accept and never answer; stop early once the client hangs up, and hang up ourselves at the cap."""
    await _hold(request, seconds)
    return await _reset(request)


ErrorAnswer = tuple  # (status, body) or (status, body, headers), as each *_wire.fault_error returns


async def answer_fault(
    request: web.Request,
    state: EmulatorState,
    knobs: Knobs,
    raw: bytes,
    respond: Callable[..., web.Response],
    once_error: Callable[[], ErrorAnswer],
    fault_error: Callable[[str], ErrorAnswer | None],
) -> web.StreamResponse | None:
    """The faults every wire format shares: `reset` and `stall` at the transport, `500-once` failing the
    first time per key (with `once_error()`), `flap` failing every other time per key (with the format's
    `503`); any other fault is the format's own `fault_error(name)`, a 429's Retry-After set by the
    `retry_after` knob. None lets the normal answer (maybe shaped by a stream fault) go on."""
    fault = knobs.fault
    if fault is None:
        return None
    if fault == "reset":
        return await _reset(request)
    if fault == "stall":
        return await _stall(request, state.config.stall_seconds)
    key = knobs.fault_key or hashlib.sha256(raw).hexdigest()
    if fault == "500-once":
        if key in state.failed_once:
            return None
        state.failed_once.add(key)
        return respond(*once_error())
    if fault == "flap":
        seen = state.flaps.get(key, 0)
        state.flaps[key] = seen + 1
        return None if seen % 2 else respond(*fault_error("503"))
    error = fault_error(fault)
    if error is None:
        return None
    if knobs.retry_after is not None and len(error) == 3 and "retry-after" in error[2]:
        error = (*error[:2], {**error[2], "retry-after": str(knobs.retry_after)})
    return respond(*error)


async def _fault(request: web.Request, state: EmulatorState, knobs: Knobs, raw: bytes, model: str):
    """OpenAI's faults (also served at the OpenAI-compatible providers' paths)."""
    key = request.headers.get("Authorization", "").partition(" ")[2].strip()
    return await answer_fault(
        request, state, knobs, raw, partial(_json, state),
        lambda: (500, wire.server_error()), lambda fault: wire.fault_error(fault, model, key),
    )


def stall_seconds(knobs: Knobs, config: EmulatorConfig) -> float:
    """The pause of `stall-mid-stream`: the `stall_ms` knob, else the configured default."""
    return _ms(knobs.stall_ms, config.stall_mid_stream_ms)


async def _stream(
    request: web.Request, state: EmulatorState, events: list[bytes], first_delay: float, interval: float, cut: bool,
    stall: float = 0.0,
) -> web.StreamResponse:
    """Write `events` as an SSE answer; at a `stream_shape.STALL` in the list, pause `stall` seconds."""
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
                 "x-request-id": f"req_emu_{state.next_id()}", "openai-processing-ms": "1"}
    )
    try:
        await response.prepare(request)
        if first_delay > 0:
            await _hold(request, first_delay)  # a client that gives up waiting ends it
        for part_index, part in enumerate(_split_at_stall(events)):
            if part_index:
                await _hold(request, stall)
                if request.transport is None or request.transport.is_closing():
                    return response  # the client gave up during the pause
            if interval <= 0:
                await response.write(b"".join(part))
            else:
                for index, event in enumerate(part):
                    if index or part_index:
                        await asyncio.sleep(interval)
                    await response.write(event)
        if cut and request.transport is not None:
            # close() flushes what was written, then hangs up mid-body: no finish chunk, no [DONE].
            request.transport.close()
            return response
        await response.write_eof()
    except ConnectionError:
        pass  # the client went away; nothing left to tell it
    return response


def _split_at_stall(events: list[bytes]) -> list[list[bytes]]:
    parts: list[list[bytes]] = [[]]
    for event in events:
        if event == stream_shape.STALL:
            parts.append([])
        else:
            parts[-1].append(event)
    return parts


def _bad_request(state: EmulatorState, message: str, param: str | None = None) -> web.Response:
    return _json(state, 400, wire.error(message, "invalid_request_error", param))


Prelude = tuple[EmulatorState, bytes, dict, list[str], Knobs]


async def _prelude(request: web.Request, texts_of) -> Prelude | web.Response:
    """Receive, authenticate, parse JSON and knobs: the common start of every POST route."""
    state, raw, body = await _receive(request)
    if (denied := _auth_error(request, state)) is not None:
        return denied
    if not isinstance(body, dict):
        return _bad_request(state, "We could not parse the JSON body of your request. (HINT: This likely means "
                            "you aren't using your HTTP library correctly.)")
    texts = texts_of(body)
    model = body.get("model")
    try:
        knobs = parse_knobs(request.headers, texts).scoped(model if isinstance(model, str) else None, request.path)
    except KnobError as exc:
        return _bad_request(state, str(exc))
    return state, raw, body, texts, knobs


# ---- OpenAI routes ---------------------------------------------------------------------------------


async def chat_completions(request: web.Request) -> web.StreamResponse:
    start = await _prelude(request, wire.chat_texts)
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, texts, knobs = start
    model, messages = body.get("model"), body.get("messages")
    if not model or not isinstance(model, str):
        return _json(state, 400, wire.missing_param("model"))
    if not isinstance(messages, list) or not messages:
        return _json(state, 400, wire.missing_param("messages"))
    config = state.config
    await _sleep(_ms(knobs.latency_ms, config.latency_ms))
    if (answered := await _fault(request, state, knobs, raw, model)) is not None:
        return answered
    reply = stream_shape.fit_to_chunks(wire.plan_reply(body, texts, knobs.fault), knobs.chunks)
    number, created = state.next_id(), int(time.time())
    cid, call_id = f"chatcmpl-emu-{number}", f"call_emu_{number}"
    slow = knobs.fault == "slow-first-token"
    slow_delay = _ms(knobs.ttft_ms, config.slow_first_token_ms)
    if not body.get("stream"):
        await _sleep(slow_delay if slow else 0)
        return _json(state, 200, wire.completion(cid, created, model, reply, call_id))
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    events = wire.stream_events(cid, created, model, reply, call_id, include_usage, knobs)
    first_delay = slow_delay if slow else _ms(knobs.ttft_ms, config.ttft_ms)
    interval = _ms(knobs.chunk_interval_ms, config.chunk_interval_ms)
    return await _stream(request, state, events, first_delay, interval, cut=knobs.fault == "cut-stream",
                         stall=stall_seconds(knobs, config))


async def embeddings(request: web.Request) -> web.StreamResponse:
    start = await _prelude(request, wire.embedding_texts)
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, _, knobs = start
    model = body.get("model")
    if not model or not isinstance(model, str):
        return _json(state, 400, wire.missing_param("model"))
    inputs = wire.embedding_inputs(body.get("input"))
    if inputs is None:
        return _bad_request(state, "'input' must be a non-empty string, array of strings or token arrays.", "input")
    dims = body.get("dimensions") or wire.EMBEDDING_DIMS
    if not isinstance(dims, int) or not 0 < dims <= 4096:
        return _bad_request(state, "'dimensions' must be an integer between 1 and 4096.", "dimensions")
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        return _bad_request(state, "'encoding_format' must be 'float' or 'base64'.", "encoding_format")
    config = state.config
    await _sleep(_ms(knobs.latency_ms, config.latency_ms))
    if (answered := await _fault(request, state, knobs, raw, model)) is not None:
        return answered
    if knobs.fault == "slow-first-token":
        await _sleep(_ms(knobs.ttft_ms, config.slow_first_token_ms))
    return _json(state, 200, wire.embeddings(model, inputs, dims, encoding))


async def list_models(request: web.Request) -> web.StreamResponse:
    state, raw, _ = await _receive(request)
    if (denied := _auth_error(request, state)) is not None:
        return denied
    try:
        knobs = parse_knobs(request.headers, ()).scoped(None, request.path)
    except KnobError as exc:
        return _bad_request(state, str(exc))
    await _sleep(_ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await _fault(request, state, knobs, raw, "gpt-4o-mini")) is not None:
        return answered
    return _json(state, 200, wire.models_list())


async def retrieve_model(request: web.Request) -> web.Response:
    state, _, _ = await _receive(request)
    if (denied := _auth_error(request, state)) is not None:
        return denied
    model = request.match_info["model"]
    if model not in wire.MODELS:
        return _json(state, *wire.fault_error("model-not-found", model)[:2])
    return _json(state, 200, wire.model_object(model))


async def unknown_route(request: web.Request) -> web.Response:
    state, _, _ = await _receive(request)
    if (denied := _auth_error(request, state)) is not None:
        return denied
    message = f"Invalid URL ({request.method} {request.path})"
    return _json(state, 404, wire.error(message, "invalid_request_error"))
