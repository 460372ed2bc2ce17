"""Text-to-speech routes on the emulator: OpenAI `POST /v1/audio/speech` (Bearer) and ElevenLabs
`POST /elevenlabs/v1/text-to-speech/{voice_id}` and `/stream` (`xi-api-key`; its error envelope).
Bodies are `audio_wire`'s deterministic audio; faults by header or by a marker in the input text
(429, 401, 503, model-not-found, 500-once, reset, stall). Recording, delays and transport faults are
server.py's.
"""

from __future__ import annotations

import asyncio
from functools import partial

from aiohttp import web

from scripts.emulator import audio_wire as wire
from scripts.emulator import openai_wire, server
from scripts.emulator.knobs import KnobError, Knobs, parse_knobs

ELEVENLABS = "/elevenlabs/v1/text-to-speech/{voice_id}"


def register(router: web.UrlDispatcher) -> None:
    router.add_post("/v1/audio/speech", openai_speech)  # before server.py's /v1 catch-all
    router.add_post(ELEVENLABS, elevenlabs_speech)
    router.add_post(ELEVENLABS + "/stream", elevenlabs_speech)


async def _send_audio(request: web.Request, state: server.EmulatorState, knobs: Knobs, data: bytes,
                      content_type: str, headers: dict[str, str]) -> web.StreamResponse:
    config = state.config
    response = web.StreamResponse(headers={"Content-Type": content_type, **headers})
    interval = server._ms(knobs.chunk_interval_ms, config.chunk_interval_ms)
    try:
        await response.prepare(request)
        await server._sleep(server._ms(knobs.ttft_ms, config.ttft_ms))
        if interval <= 0:
            await response.write(data)
        else:
            for index, piece in enumerate(wire.pieces(data)):
                if index:
                    await asyncio.sleep(interval)
                await response.write(piece)
        await response.write_eof()
    except ConnectionError:
        pass
    return response


async def openai_speech(request: web.Request) -> web.StreamResponse:
    start = await server._prelude(request, lambda body: [body["input"]] if isinstance(body.get("input"), str) else [])
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, _, knobs = start
    for field in ("model", "input", "voice"):
        if not isinstance(body.get(field), str) or not body[field]:
            return server._json(state, 400, openai_wire.missing_param(field))
    fmt = body.get("response_format") or "mp3"
    if fmt not in wire.OPENAI_CONTENT_TYPES:
        return server._bad_request(state, f"Invalid value: '{fmt}'. Supported values are: "
                                   f"{', '.join(wire.OPENAI_CONTENT_TYPES)}.", "response_format")
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await server._fault(request, state, knobs, raw, body["model"])) is not None:
        return answered
    data = wire.audio_bytes(body["input"], fmt, body["voice"])
    return await _send_audio(request, state, knobs, data, wire.OPENAI_CONTENT_TYPES[fmt],
                             {"x-request-id": f"req_emu_{state.next_id()}", "openai-processing-ms": "1"})


def _el_json(state: server.EmulatorState, status: int, body: object, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=wire.encode(body), content_type="application/json",
                        headers={"request-id": f"emu{state.next_id():012x}", **(headers or {})})


async def _el_fault(request: web.Request, state: server.EmulatorState, knobs: Knobs, raw: bytes):
    """Faults that replace the whole answer, in ElevenLabs' error shapes; None lets the answer go on."""
    return await server.answer_fault(
        request, state, knobs, raw, partial(_el_json, state),
        lambda: (500, wire.elevenlabs_server_error()), wire.elevenlabs_fault,
    )


async def elevenlabs_speech(request: web.Request) -> web.StreamResponse:
    state, raw, body = await server._receive(request)
    if not request.headers.get("xi-api-key", "").strip():
        return _el_json(state, 401, wire.elevenlabs_error("needs_authorization", "Neither authorization header nor xi-api-key received, please provide one."))
    if not isinstance(body, dict):
        return _el_json(state, 400, wire.elevenlabs_error("invalid_json", "Invalid JSON body"))
    text = body.get("text")
    if not isinstance(text, str) or not text:
        return _el_json(state, 422, wire.elevenlabs_validation_error("text", "Field required"))
    output_format = request.query.get("output_format") or wire.ELEVENLABS_DEFAULT_FORMAT
    codec = wire.elevenlabs_codec(output_format)
    if codec is None:
        return _el_json(state, 422, wire.elevenlabs_error("invalid_output_format", f"Invalid output format: {output_format}"))
    model_id = body.get("model_id") or "eleven_multilingual_v2"
    if model_id not in wire.ELEVENLABS_MODELS:
        return _el_json(state, 400, wire.elevenlabs_error("model_not_found", "A model with this model_id does not exist."))
    try:
        knobs = parse_knobs(request.headers, [text]).scoped(model_id, request.path)
    except KnobError as exc:
        return _el_json(state, 400, wire.elevenlabs_error("invalid_request", str(exc)))
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await _el_fault(request, state, knobs, raw)) is not None:
        return answered
    data = wire.audio_bytes(text, codec, request.match_info["voice_id"])
    return await _send_audio(request, state, knobs, data, wire.ELEVENLABS_CONTENT_TYPES[codec],
                             {"request-id": f"emu{state.next_id():012x}", "x-character-count": str(len(text))})
