"""Video generation routes on the emulator (bodies and rules in `video_wire`):

- OpenAI (Bearer): `POST /v1/videos` (JSON), `GET /v1/videos/{id}`, `GET /v1/videos/{id}/content?variant=`.
- Gemini (`x-goog-api-key` or `?key=`), under /gemini: `POST /v1beta/models/{model}:predictLongRunning`,
  `GET /v1beta/models/{model}/operations/{op}`, `GET /v1beta/files/{op}:download?alt=media`.

Knobs from the prompt (`[[emulator:polls=K]]`, `[[emulator:fault=video-failed]]`) or headers; the shared
faults (429, 401, 503, model-not-found, 500-once, reset, stall) answer the create call in each provider's
error envelope. Jobs live in the emulator's state (`EmulatorState.video_jobs`).
"""

from __future__ import annotations

import time

from aiohttp import web

from scripts.emulator import gemini_routes, server
from scripts.emulator import gemini_wire
from scripts.emulator import video_wire as wire
from scripts.emulator.knobs import KnobError, parse_knobs

GEMINI = "/gemini/v1beta"


def register(router: web.UrlDispatcher) -> None:
    router.add_post("/v1/videos", openai_create)
    router.add_get("/v1/videos/{video_id}", openai_retrieve)
    router.add_get("/v1/videos/{video_id}/content", openai_content)
    router.add_post(GEMINI + "/models/{model}:predictLongRunning", gemini_create)
    router.add_get(GEMINI + "/models/{model}/operations/{op}", gemini_operation)
    router.add_get(GEMINI + "/files/{file_action}", gemini_download)


def _bytes(state: server.EmulatorState, data: bytes, variant: str) -> web.Response:
    return web.Response(body=data, content_type=wire.CONTENT_TYPES[variant],
                        headers={"x-request-id": f"req_emu_{state.next_id()}"})


# ---- OpenAI ----------------------------------------------------------------------------------------


async def openai_create(request: web.Request) -> web.StreamResponse:
    start = await server._prelude(request, lambda body: [body["prompt"]] if isinstance(body.get("prompt"), str) else [])
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, _, knobs = start
    problem = wire.openai_create_problem(body)
    if problem is not None:
        return server._json(state, 400, wire.openai_error(*problem))
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await server._fault(request, state, knobs, raw, body["model"])) is not None:
        return answered
    job_id = f"video_emu_{state.next_id()}"
    job = wire.new_job(job_id, body["model"], body["prompt"], int(body.get("seconds", "4")),
                       body.get("size", "720x1280"), knobs.polls, knobs.fault == "video-failed", int(time.time()))
    state.video_jobs[job_id] = job
    return server._json(state, 200, wire.openai_video(job))


async def _openai_job(request: web.Request) -> tuple[server.EmulatorState, dict | web.Response]:
    state, _, _ = await server._receive(request)
    if (denied := server._auth_error(request, state)) is not None:
        return state, denied
    job = state.video_jobs.get(request.match_info["video_id"])
    if job is None or job["id"].startswith("models/"):
        return state, server._json(state, 404, wire.openai_error(
            f"Video with id '{request.match_info['video_id']}' not found.", None, "not_found"))
    return state, job


async def openai_retrieve(request: web.Request) -> web.Response:
    state, job = await _openai_job(request)
    if isinstance(job, web.Response):
        return job
    wire.poll(job, int(time.time()))
    return server._json(state, 200, wire.openai_video(job))


async def openai_content(request: web.Request) -> web.Response:
    state, job = await _openai_job(request)
    if isinstance(job, web.Response):
        return job
    variant = request.query.get("variant", "video")
    if variant not in wire.CONTENT_TYPES:
        return server._json(state, 400, wire.openai_error(f"Invalid value: '{variant}'.", "variant"))
    if wire.stage(job)[0] != "completed":
        return server._json(state, 400, wire.openai_error("Video is not ready yet.", None, "video_not_ready"))
    return _bytes(state, wire.video_bytes(variant, job["model"], job["seconds"], job["prompt"]), variant)


# ---- Gemini ----------------------------------------------------------------------------------------


def _gemini_key_error(request: web.Request, state: server.EmulatorState) -> web.Response | None:
    if gemini_routes._has_key(request):
        return None
    return gemini_routes._json(state, 403, gemini_wire.unregistered_caller())


async def gemini_create(request: web.Request) -> web.StreamResponse:
    state, raw, body = await server._receive(request)
    model = request.match_info["model"]
    if (denied := _gemini_key_error(request, state)) is not None:
        return denied
    if not isinstance(body, dict):
        return gemini_routes._json(state, 400, gemini_wire.invalid_argument("Invalid JSON payload received."))
    problem = wire.gemini_create_problem(model, body)
    if problem is not None:
        return gemini_routes._json(state, 400, gemini_wire.invalid_argument(problem))
    prompt = body["instances"][0]["prompt"]
    try:
        knobs = parse_knobs(request.headers, [prompt])
    except KnobError as exc:
        return gemini_routes._json(state, 400, gemini_wire.invalid_argument(str(exc)))
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await gemini_routes._fault(request, state, knobs, raw, model)) is not None:
        return answered
    parameters = body.get("parameters") or {}
    name = f"models/{model}/operations/emu-op-{state.next_id()}"
    job = wire.new_job(name, model, prompt, int(parameters.get("durationSeconds", 8)), wire.gemini_size(parameters),
                       knobs.polls, knobs.fault == "video-failed", int(time.time()))
    state.video_jobs[name] = job
    return gemini_routes._json(state, 200, {"name": name})


def _download_base(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


async def gemini_operation(request: web.Request) -> web.Response:
    state, _, _ = await server._receive(request)
    if (denied := _gemini_key_error(request, state)) is not None:
        return denied
    name = f"models/{request.match_info['model']}/operations/{request.match_info['op']}"
    job = state.video_jobs.get(name)
    if job is None:
        return gemini_routes._json(state, 404, gemini_wire.error(404, f"Operation {name} not found."))
    wire.poll(job, int(time.time()))
    return gemini_routes._json(state, 200, wire.gemini_operation(job, _download_base(request)))


async def gemini_download(request: web.Request) -> web.Response:
    state, _, _ = await server._receive(request)
    if (denied := _gemini_key_error(request, state)) is not None:
        return denied
    op_id, _, action = request.match_info["file_action"].partition(":")
    job = next((j for name, j in state.video_jobs.items() if name.endswith("/operations/" + op_id)), None)
    if action != "download" or request.query.get("alt") != "media" or job is None or wire.stage(job)[0] != "completed":
        return gemini_routes._json(state, 404, gemini_wire.error(404, f"File {op_id} not found."))
    return _bytes(state, wire.video_bytes("video", job["model"], job["seconds"], job["prompt"]), "video")
