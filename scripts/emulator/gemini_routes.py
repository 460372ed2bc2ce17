"""Gemini API routes on the emulator: `POST /gemini/v1beta/models/{model}:generateContent`,
`:streamGenerateContent` (`?alt=sse` for SSE; without it, Google's JSON-array stream) and
`:batchEmbedContents`. A `generateContent` asking for `responseModalities: ["AUDIO"]` (the TTS models) answers
speech: audio_wire's Gemini rule (base64 PCM in `inlineData`).

The key is taken from the `x-goog-api-key` header or the `key` query parameter, as Google takes it.
Recording, delays, transport faults (reset, stall, 500-once) and SSE writing are server.py's.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web

from scripts.emulator import gemini_wire as wire
from scripts.emulator import audio_wire, server, stream_shape
from scripts.emulator.knobs import KnobError, Knobs, parse_knobs

PREFIX = "/gemini/v1beta/models/"


def register(router: web.UrlDispatcher) -> None:
    router.add_post(PREFIX + "{model_action}", generate)


def _json(state: server.EmulatorState, status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=wire.encode(body), content_type="application/json",
                        headers={"x-request-id": f"req_emu_{state.next_id()}", **(headers or {})})


def _has_key(request: web.Request) -> bool:
    return bool(request.headers.get("x-goog-api-key", "").strip() or request.query.get("key", "").strip())


async def _fault(request: web.Request, state: server.EmulatorState, knobs: Knobs, raw: bytes, model: str):
    """Faults that replace the whole answer, in Gemini's error shapes; None lets the answer go on."""
    return await server.answer_fault(
        request, state, knobs, raw, partial(_json, state),
        lambda: (500, wire.server_error()), lambda fault: wire.fault_error(fault, model),
    )


async def generate(request: web.Request) -> web.StreamResponse:
    state, raw, body = await server._receive(request)
    model, _, action = request.match_info["model_action"].partition(":")
    if action == "batchEmbedContents":
        return await _batch_embed(request, state, raw, body, model)
    if action not in ("generateContent", "streamGenerateContent"):
        return _json(state, 404, wire.error(404, f"Method not found: {action or '(none)'}."))
    if not _has_key(request):
        return _json(state, 403, wire.unregistered_caller())
    if not isinstance(body, dict):
        return _json(state, 400, wire.invalid_argument("Invalid JSON payload received. Unexpected token."))
    if not isinstance(body.get("contents"), list) or not body["contents"]:
        return _json(state, 400, wire.invalid_argument("* GenerateContentRequest.contents: contents is not specified\n"))
    try:
        knobs = parse_knobs(request.headers, wire.chat_texts(body)).scoped(model, request.path)
    except KnobError as exc:
        return _json(state, 400, wire.invalid_argument(str(exc)))
    config = state.config
    await server._sleep(server._ms(knobs.latency_ms, config.latency_ms))
    if (answered := await _fault(request, state, knobs, raw, model)) is not None:
        return answered
    response_id = f"emu-gemini-{state.next_id()}"
    if action == "generateContent" and audio_wire.wants_gemini_audio(body):
        return _json(state, 200, audio_wire.gemini_speech(body, model, response_id))
    reply = stream_shape.fit_to_chunks(wire.plan(body, knobs.fault), knobs.chunks)
    candidates = wire.candidate_count(body)
    slow = knobs.fault == "slow-first-token"
    slow_delay = server._ms(knobs.ttft_ms, config.slow_first_token_ms)
    if knobs.fault == "content-filter":
        blocked = wire.blocked_prompt(model, response_id, reply.prompt_tokens)
        if action == "generateContent":
            return _json(state, 200, blocked)
        events = [wire.sse(blocked)]
    elif action == "generateContent":
        await server._sleep(slow_delay if slow else 0)
        return _json(state, 200, wire.generate_content(model, response_id, reply, candidates))
    else:
        events = wire.stream_chunks(model, response_id, reply, candidates, knobs)
    if request.query.get("alt") != "sse":  # Google's default stream framing: one JSON array
        chunks = [event[len(b"data: "):].strip() for event in events
                  if event not in (wire.SSE_MALFORMED, stream_shape.STALL)]
        return web.Response(status=200, body=b"[" + b",\r\n".join(chunks) + b"]", content_type="application/json")
    first_delay = slow_delay if slow else server._ms(knobs.ttft_ms, config.ttft_ms)
    interval = server._ms(knobs.chunk_interval_ms, config.chunk_interval_ms)
    return await server._stream(request, state, events, first_delay, interval, cut=knobs.fault == "cut-stream",
                                stall=server.stall_seconds(knobs, config))


async def _batch_embed(
    request: web.Request, state: server.EmulatorState, raw: bytes, body: object, model: str
) -> web.StreamResponse:
    if not _has_key(request):
        return _json(state, 403, wire.unregistered_caller())
    if not isinstance(body, dict):
        return _json(state, 400, wire.invalid_argument("Invalid JSON payload received. Unexpected token."))
    problem = wire.batch_embed_problem(body, model)
    if problem is not None:
        return _json(state, 400, wire.invalid_argument(problem))
    try:
        knobs = parse_knobs(request.headers, wire.embed_texts(body)).scoped(model, request.path)
    except KnobError as exc:
        return _json(state, 400, wire.invalid_argument(str(exc)))
    config = state.config
    await server._sleep(server._ms(knobs.latency_ms, config.latency_ms))
    if (answered := await _fault(request, state, knobs, raw, model)) is not None:
        return answered
    if knobs.fault == "slow-first-token":
        await server._sleep(server._ms(knobs.ttft_ms, config.slow_first_token_ms))
    return _json(state, 200, wire.batch_embed_contents(body))
