"""Workers AI REST routes on the emulator: `POST /cloudflare/client/v4/accounts/{account}/ai/run/{model}`
(the model keeps its `@cf/<vendor>/<name>` slashes). `Authorization: Bearer <token>` is required (Cloudflare's
10000 "Authentication error" otherwise). The model's task decides the inputs: text generation wants `messages`
(`stream: true` answers SSE); `@cf/baai/bge-*` embeds `text` (a string or a list); `@cf/deepgram/aura-*` speaks
`text` and answers the audio bytes themselves; `@cf/myshell-ai/melotts` speaks `prompt` and answers JSON
`{audio: base64}` (rules in audio_wire / workers_ai_wire).
Recording, delays, transport faults (reset, stall, 500-once) and SSE writing are server.py's.
"""

from __future__ import annotations

from functools import partial

from aiohttp import web

from scripts.emulator import audio_routes, audio_wire, server, stream_shape
from scripts.emulator import workers_ai_wire as wire
from scripts.emulator.knobs import KnobError, Knobs, parse_knobs

PATH = "/cloudflare/client/v4/accounts/{account}/ai/run/{model:.+}"


def register(router: web.UrlDispatcher) -> None:
    router.add_post(PATH, run)


def _json(state: server.EmulatorState, status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=wire.encode(body), content_type="application/json",
                        headers={"cf-ray": f"emu{state.next_id():012x}-EMU", **(headers or {})})


async def _fault(request: web.Request, state: server.EmulatorState, knobs: Knobs, raw: bytes, model: str):
    """Faults that replace the whole answer, in Cloudflare's error envelope; None lets the answer go on."""
    return await server.answer_fault(
        request, state, knobs, raw, partial(_json, state),
        lambda: (500, wire.server_error()), lambda fault: wire.fault_error(fault, model),
    )


async def run(request: web.Request) -> web.StreamResponse:
    state, raw, body = await server._receive(request)
    model = request.match_info["model"]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _json(state, 401, wire.authentication_error())
    if not isinstance(body, dict):
        return _json(state, 400, wire.bad_input("Type mismatch of '/', 'object' not in 'string,null'"))
    task = wire.task_of(model)
    problem = wire.input_problem(task, body)
    if problem is not None:
        return _json(state, 400, wire.bad_input(problem))
    try:
        knobs = parse_knobs(request.headers, wire.input_texts(task, body)).scoped(model, request.path)
    except KnobError as exc:
        return _json(state, 400, wire.bad_input(str(exc)))
    config = state.config
    await server._sleep(server._ms(knobs.latency_ms, config.latency_ms))
    if (answered := await _fault(request, state, knobs, raw, model)) is not None:
        return answered
    if task == "embeddings":
        return _json(state, 200, wire.embeddings_result(body))
    if task == "melotts":
        return _json(state, 200, wire.envelope(wire.melotts_result(body)))
    if task == "aura":
        fmt = audio_wire.aura_format(body)
        return await audio_routes._send_audio(request, state, knobs, audio_wire.aura_audio(body, model),
                                              audio_wire.AURA_CONTENT_TYPES[fmt],
                                              {"cf-ray": f"emu{state.next_id():012x}-EMU"})
    reply = stream_shape.fit_to_chunks(wire.plan(body, knobs.fault), knobs.chunks)
    slow = knobs.fault == "slow-first-token"
    slow_delay = server._ms(knobs.ttft_ms, config.slow_first_token_ms)
    if not body.get("stream"):
        await server._sleep(slow_delay if slow else 0)
        return _json(state, 200, wire.run_result(reply))
    events = wire.stream_events(reply, knobs)
    first_delay = slow_delay if slow else server._ms(knobs.ttft_ms, config.ttft_ms)
    interval = server._ms(knobs.chunk_interval_ms, config.chunk_interval_ms)
    return await server._stream(request, state, events, first_delay, interval, cut=knobs.fault == "cut-stream",
                                stall=server.stall_seconds(knobs, config))
