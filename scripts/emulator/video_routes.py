"""Video generation routes on the emulator (bodies and rules in `video_wire`):

- OpenAI (Bearer): `POST /v1/videos` (JSON), `GET /v1/videos/{id}`, `GET /v1/videos/{id}/content?variant=`.
- Gemini (`x-goog-api-key` or `?key=`), under /gemini: `POST /v1beta/models/{model}:predictLongRunning`,
  `GET /v1beta/models/{model}/operations/{op}`, `GET /v1beta/files/{op}:download?alt=media`.
- xAI (Bearer), under /xai/v1: `POST /videos/generations`, `GET /videos/{request_id}`; its CDN stand-in
  `GET /xai-cdn/{request_id}.mp4` (no credentials).
- Together AI (Bearer), under /together/v2: `POST /videos`, `GET /videos/{id}`; the short link
  `GET /together/shrt/{id}` (302) and the file `GET /together/files/{id}.mp4` (no credentials).

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
    router.add_post("/xai/v1/videos/generations", xai_create)
    router.add_get("/xai/v1/videos/{request_id}", xai_status)
    router.add_get("/xai-cdn/{file}", xai_cdn)
    router.add_post("/together/v2/videos", together_create)
    router.add_get("/together/v2/videos/{video_id}", together_retrieve)
    router.add_get("/together/shrt/{video_id}", together_short_link)
    router.add_get("/together/files/{file}", together_file)


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
        knobs = parse_knobs(request.headers, [prompt]).scoped(model, request.path)
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


# ---- xAI and Together ------------------------------------------------------------------------------


async def _bearer_create(request: web.Request, problem_of):
    """Bearer, JSON, knobs from the prompt, the format's checks, then the shared faults;
    (state, body, knobs) or the answer."""
    start = await server._prelude(request, lambda body: [body["prompt"]] if isinstance(body.get("prompt"), str) else [])
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, _, knobs = start
    problem = problem_of(body)
    if problem is not None:
        return server._json(state, 400, wire.openai_error(*problem))
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await server._fault(request, state, knobs, raw, body["model"])) is not None:
        return answered
    return state, body, knobs


async def _polled(request: web.Request, job_id: str, prefix: str):
    """A status poll: Bearer, the job (404 in the OpenAI error body when unknown), counted."""
    state, _, _ = await server._receive(request)
    if (denied := server._auth_error(request, state)) is not None:
        return state, denied
    job = state.video_jobs.get(job_id) if job_id.startswith(prefix) else None
    if job is None:
        return state, server._json(state, 404, wire.openai_error(f"Video '{job_id}' not found.", None, "not_found"))
    wire.poll(job, int(time.time()))
    return state, job


def _file_host_refusal(request: web.Request, state: server.EmulatorState) -> web.Response | None:
    if "Authorization" in request.headers:
        return server._json(state, 400, wire.openai_error(
            "This file host takes no credentials; an Authorization header was sent.", None, "key_sent_to_file_host"))
    return None


def _finished(state: server.EmulatorState, job_id: str) -> dict | None:
    job = state.video_jobs.get(job_id)
    return job if job is not None and wire.stage(job)[0] == "completed" else None


async def xai_create(request: web.Request) -> web.StreamResponse:
    start = await _bearer_create(request, wire.xai_create_problem)
    if isinstance(start, web.StreamResponse):
        return start
    state, body, knobs = start
    job_id = f"xai-vid-emu-{state.next_id()}"
    state.video_jobs[job_id] = wire.new_job(job_id, body["model"], body["prompt"], body.get("duration", 6),
                                            wire.xai_size(body), knobs.polls, knobs.fault == "video-failed",
                                            int(time.time()))
    return server._json(state, 200, {"request_id": job_id})


async def xai_status(request: web.Request) -> web.Response:
    state, job = await _polled(request, request.match_info["request_id"], "xai-vid-emu-")
    if isinstance(job, web.Response):
        return job
    return server._json(state, 200, wire.xai_status(job, _download_base(request)))


async def xai_cdn(request: web.Request) -> web.Response:
    return await _public_file(request)


async def _public_file(request: web.Request) -> web.Response:
    """A finished job's file on a provider's public file host (no credentials accepted)."""
    state, _, _ = await server._receive(request)
    if (refused := _file_host_refusal(request, state)) is not None:
        return refused
    job = _finished(state, request.match_info["file"].removesuffix(".mp4"))
    if job is None:
        return web.Response(status=404, text="no such file")
    return _bytes(state, wire.video_bytes("video", job["model"], job["seconds"], job["prompt"]), "video")


async def together_create(request: web.Request) -> web.StreamResponse:
    start = await _bearer_create(request, wire.together_create_problem)
    if isinstance(start, web.StreamResponse):
        return start
    state, body, knobs = start
    job_id = f"vid-emu-{state.next_id()}"
    job = wire.new_job(job_id, body["model"], body["prompt"], int(body.get("seconds", "6")), wire.together_size(body),
                       knobs.polls, knobs.fault == "video-failed", int(time.time()))
    state.video_jobs[job_id] = job
    return server._json(state, 200, wire.together_video(job, _download_base(request)))


async def together_retrieve(request: web.Request) -> web.Response:
    state, job = await _polled(request, request.match_info["video_id"], "vid-emu-")
    if isinstance(job, web.Response):
        return job
    return server._json(state, 200, wire.together_video(job, _download_base(request)))


async def together_short_link(request: web.Request) -> web.Response:
    state, _, _ = await server._receive(request)
    if (refused := _file_host_refusal(request, state)) is not None:
        return refused
    video_id = request.match_info["video_id"]
    if _finished(state, video_id) is None:
        return web.Response(status=404, text="no such link")
    raise web.HTTPFound(f"/together/files/{video_id}.mp4")


async def together_file(request: web.Request) -> web.Response:
    return await _public_file(request)
