"""Speech-to-text routes on the emulator, each under its provider's emulated base path:

- OpenAI `POST /v1/audio/transcriptions` and Groq `POST /groq/openai/v1/audio/transcriptions` (Bearer;
  multipart `file`, `model`, `response_format`, `language`, `prompt`, `timestamp_granularities[]`);
- ElevenLabs `POST /elevenlabs/v1/speech-to-text` (`xi-api-key`; multipart `file`, `model_id`, `language_code`);
- Gemini `POST /gemini/v1beta/models/{model}:generateContent` whose parts carry `inlineData` audio (any
  other request goes on to the chat route);
- Workers AI `POST /cloudflare/client/v4/accounts/{account}/ai/run/@cf/openai/whisper[-large-v3-turbo|-tiny-en]`.

Answers follow `transcription_wire`'s documented rule; faults by a marker in the upload or `prompt`, in each
provider's error envelope. Multipart requests are recorded with their fields and the file's name, type,
size and SHA-256 (not its bytes).
"""

from __future__ import annotations

import hashlib
from functools import partial

from aiohttp import web

from scripts.emulator import audio_routes, audio_wire, gemini_routes, gemini_wire, openai_wire, server
from scripts.emulator import transcription_wire as wire
from scripts.emulator import workers_ai_routes, workers_ai_wire
from scripts.emulator.knobs import KnobError, Knobs, parse_knobs

GEMINI_GENERATE = gemini_routes.PREFIX + "{model_action}"  # gemini_routes' own pattern: this one is tried first
WORKERS_AI_RUN = "/cloudflare/client/v4/accounts/{account}/ai/run/"


def register(router: web.UrlDispatcher) -> None:
    """Before the Gemini and Workers AI chat routes (same paths) and server.py's /v1 catch-all."""
    router.add_post(GEMINI_GENERATE, gemini_generate)
    router.add_post("/v1/audio/transcriptions", partial(openai_transcriptions, provider="openai"))
    router.add_post("/groq/openai/v1/audio/transcriptions", partial(openai_transcriptions, provider="groq"))
    router.add_post("/elevenlabs/v1/speech-to-text", elevenlabs_speech_to_text)
    for model in wire.WORKERS_AI_MODELS:
        router.add_post(WORKERS_AI_RUN + model, partial(workers_ai_run, model=model))


async def _upload(request: web.Request) -> tuple[server.EmulatorState, bytes, tuple | None]:
    """Read a multipart request and record it (fields, and the file without its bytes)."""
    state = request.app[server.STATE]
    raw = await request.read()
    parsed = wire.parse_multipart(request.headers.get("Content-Type", ""), raw)
    recorded: object = raw[:200].decode("latin-1")
    if parsed is not None:
        fields, files = parsed
        recorded = {"fields": fields, "files": {
            name: {"filename": f[0], "content_type": f[1], "size": len(f[2]), "sha256": hashlib.sha256(f[2]).hexdigest()}
            for name, f in files.items()}}
    state.requests.append({"method": request.method, "path": request.path, "query": request.query_string,
                           "headers": dict(request.headers), "body": recorded})
    return state, raw, parsed


def _first(fields: dict[str, list[str]], name: str) -> str | None:
    values = fields.get(name)
    return values[0] if values else None


async def _pause(state: server.EmulatorState, knobs: Knobs) -> None:
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))


async def openai_transcriptions(request: web.Request, provider: str) -> web.StreamResponse:
    state, raw, parsed = await _upload(request)
    if (denied := server._auth_error(request, state)) is not None:
        return denied
    if parsed is None:
        return server._bad_request(state, "Could not parse multipart form")
    fields, files = parsed
    if "file" not in files:
        return server._json(state, 400, openai_wire.missing_param("file"))
    model = _first(fields, "model")
    if not model:
        return server._json(state, 400, openai_wire.missing_param("model"))
    fmt = _first(fields, "response_format") or "json"
    if fmt not in wire.OPENAI_FORMATS:
        return server._bad_request(state, f"Invalid value: '{fmt}'. Supported values are: "
                                   f"{', '.join(wire.OPENAI_FORMATS)}.", "response_format")
    if provider == "openai" and model.startswith(wire.JSON_ONLY_PREFIX) and fmt not in ("json", "text"):
        return server._json(state, 400, wire.incompatible_format(fmt, model))
    data, prompt, language = files["file"][2], _first(fields, "prompt"), _first(fields, "language")
    try:
        knobs = parse_knobs(request.headers, wire.marker_texts(data, prompt)).scoped(model, request.path)
    except KnobError as exc:
        return server._bad_request(state, str(exc))
    await _pause(state, knobs)
    if (answered := await server._fault(request, state, knobs, raw, model)) is not None:
        return answered
    text, duration = wire.transcript_of(data, list(state.requests)), wire.duration_of(data)
    if fmt in ("text", "srt", "vtt"):
        body = text + "\n" if fmt == "text" else wire.subtitles(text, duration, fmt)
        return web.Response(status=200, text=body, content_type="text/plain",
                            headers={"x-request-id": f"req_emu_{state.next_id()}"})
    extra = {"x_groq": {"id": f"req_emu_{state.next_id()}"}} if provider == "groq" else {}
    usage = {} if provider == "groq" else {"usage": wire.openai_usage(model, text, duration, prompt)}
    if fmt == "verbose_json":
        granularities = fields.get("timestamp_granularities[]", [])
        answer = wire.openai_verbose(text, duration, language, "word" in granularities)
    else:
        answer = {"text": text}
    return server._json(state, 200, {**answer, **usage, **extra})


async def elevenlabs_speech_to_text(request: web.Request) -> web.StreamResponse:
    state, raw, parsed = await _upload(request)
    if not request.headers.get("xi-api-key", "").strip():
        return audio_routes._el_json(state, 401, audio_wire.elevenlabs_error(
            "needs_authorization", "Neither authorization header nor xi-api-key received, please provide one."))
    if parsed is None:
        return audio_routes._el_json(state, 400, audio_wire.elevenlabs_error("invalid_request", "Could not parse the form."))
    fields, files = parsed
    model_id = _first(fields, "model_id")
    if not model_id:
        return audio_routes._el_json(state, 422, audio_wire.elevenlabs_validation_error("model_id", "Field required"))
    if "file" not in files and "cloud_storage_url" not in fields:
        return audio_routes._el_json(state, 400, audio_wire.elevenlabs_error(
            "invalid_request", "Must provide either file or cloud_storage_url parameter."))
    if model_id not in ("scribe_v1", "scribe_v1_experimental", "scribe_v2"):
        return audio_routes._el_json(state, 400, audio_wire.elevenlabs_error(
            "model_not_found", "A model with this model_id does not exist."))
    data = files["file"][2]
    try:
        knobs = parse_knobs(request.headers, wire.marker_texts(data)).scoped(model_id, request.path)
    except KnobError as exc:
        return audio_routes._el_json(state, 400, audio_wire.elevenlabs_error("invalid_request", str(exc)))
    await _pause(state, knobs)
    if (answered := await audio_routes._el_fault(request, state, knobs, raw)) is not None:
        return answered
    answer = wire.elevenlabs_answer(wire.transcript_of(data, list(state.requests)), wire.duration_of(data), _first(fields, "language_code"))
    return audio_routes._el_json(state, 200, answer)


async def gemini_generate(request: web.Request) -> web.StreamResponse:
    """generateContent with inline audio is a transcription; anything else is the chat route's."""
    model, _, action = request.match_info["model_action"].partition(":")
    raw = await request.read()  # aiohttp keeps the body: the chat route reads it again
    try:
        body = wire.json.loads(raw) if raw and action == "generateContent" else None
    except ValueError:
        body = None
    audio = wire.gemini_audio(body) if isinstance(body, dict) else None
    if audio is None:
        return await gemini_routes.generate(request)
    state, raw, body = await server._receive(request)
    if not gemini_routes._has_key(request):
        return gemini_routes._json(state, 403, gemini_wire.unregistered_caller())
    instruction, data, _ = audio
    if not data:
        return gemini_routes._json(state, 400, gemini_wire.invalid_argument("Base64 decoding failed for inlineData."))
    try:
        knobs = parse_knobs(request.headers, wire.marker_texts(data)).scoped(model, request.path)
    except KnobError as exc:
        return gemini_routes._json(state, 400, gemini_wire.invalid_argument(str(exc)))
    await _pause(state, knobs)
    if (answered := await gemini_routes._fault(request, state, knobs, raw, model)) is not None:
        return answered
    answer = wire.gemini_answer(model, f"emu-gemini-{state.next_id()}", instruction, wire.transcript_of(data, list(state.requests)),
                                wire.duration_of(data))
    return gemini_routes._json(state, 200, answer)


async def workers_ai_run(request: web.Request, model: str) -> web.StreamResponse:
    state, raw, body = await server._receive(request)
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return workers_ai_routes._json(state, 401, workers_ai_wire.authentication_error())
    if not isinstance(body, dict):
        return workers_ai_routes._json(state, 400, workers_ai_wire.bad_input("Type mismatch of '/', 'object' not in 'string,null'"))
    data = wire.workers_ai_audio(model, body)
    if isinstance(data, str):
        return workers_ai_routes._json(state, 400, workers_ai_wire.bad_input(data))
    try:
        knobs = parse_knobs(request.headers, wire.marker_texts(data, body.get("initial_prompt"))).scoped(
            model, request.path)
    except KnobError as exc:
        return workers_ai_routes._json(state, 400, workers_ai_wire.bad_input(str(exc)))
    await _pause(state, knobs)
    if (answered := await workers_ai_routes._fault(request, state, knobs, raw, model)) is not None:
        return answered
    result = wire.workers_ai_result(model, wire.transcript_of(data, list(state.requests)), wire.duration_of(data), body.get("language"))
    return workers_ai_routes._json(state, 200, workers_ai_wire.envelope(result))
