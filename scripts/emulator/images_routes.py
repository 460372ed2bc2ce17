"""Image-generation routes on the emulator, each under its provider's real path and in its wire format:

- OpenAI `POST /v1/images/generations` (Bearer): dall-e-* answer PNG, a hosted `url` by default (dall-e-3
  adds `revised_prompt`); gpt-image-* answer `b64_json` only (PNG or JPEG by `output_format`), refuse
  `response_format` as OpenAI does, and report `size`, `quality` (`auto` → 1024x1024, medium) and `usage`.
- xAI `POST /xai/v1/images/generations` (Bearer): JPEG, `url` by default, `revised_prompt`; `size`,
  `quality` and `style` refused with a 400 ("not supported" in xAI's reference).
- Together AI `POST /together/v1/images/generations` (Bearer): `{"id", "model", "object": "list", "data":
  [{"index", "b64_json" | "url", "type"}]}`; `response_format` `base64` / `url` (default), `n` 1–4,
  `output_format` jpeg (default) / png.
- Imagen `POST /gemini/v1beta/models/{model}:predict` (`x-goog-api-key`): `{"predictions": [{"mimeType",
  "bytesBase64Encoded"}]}`, `sampleCount` 1–4, `aspectRatio` one of Imagen's five.
- Workers AI `POST /cloudflare/client/v4/accounts/{account}/ai/run/@cf/black-forest-labs/flux-1-schnell`
  (JSON `{"result": {"image": <base64 JPEG>}}`, `steps` ≤ 8) and `…/@cf/stabilityai/stable-diffusion-xl-base-1.0`
  (the PNG file itself, `content-type: image/png`; `width`/`height` 256–2048).
- `GET /_emulator/images/{seed}.{png|jpg}` serves the hosted URLs' files.

Images follow `images_wire`'s rule; faults by header or by a marker in the prompt, in each provider's error
shape (429, 401, 503, model-not-found, 500-once, reset, stall). Registered before gemini_routes and
workers_ai_routes, whose catch-all paths would otherwise take `:predict` and these runs.
"""

from __future__ import annotations

from aiohttp import web

from scripts.emulator import gemini_routes, gemini_wire, openai_wire, server, workers_ai_routes, workers_ai_wire
from scripts.emulator import images_wire as wire
from scripts.emulator.knobs import KnobError, parse_knobs

WORKERS_AI_MODELS = "@cf/black-forest-labs/flux-1-schnell|@cf/stabilityai/stable-diffusion-xl-base-1\\.0"
IMAGEN_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")
XAI_UNSUPPORTED = ("size", "quality", "style")


def register(router: web.UrlDispatcher) -> None:
    router.add_get(wire.ROUTE + "{name}", hosted_image)
    router.add_post("/v1/images/generations", openai_images)  # before server.py's /v1 catch-all
    router.add_post("/xai/v1/images/generations", xai_images)
    router.add_post("/together/v1/images/generations", together_images)
    router.add_post("/gemini/v1beta/models/{model}:predict", imagen_predict)
    router.add_post("/cloudflare/client/v4/accounts/{account}/ai/run/{model:" + WORKERS_AI_MODELS + "}", workers_ai_run)


def _base_url(request: web.Request) -> str:
    return f"{request.scheme}://{request.host}"


def _prompt_texts(body: dict) -> list[str]:
    return [body["prompt"]] if isinstance(body.get("prompt"), str) else []


async def hosted_image(request: web.Request) -> web.Response:
    found = wire.hosted_image(request.match_info["name"])
    if found is None:
        return web.Response(status=404, text="no such image")
    data, media_type = found
    return web.Response(body=data, content_type=media_type)


async def _checked_start(request: web.Request, max_n: int = 10):
    """The Bearer-JSON prelude (knobs from the prompt) plus the `model`/`prompt`/`n` checks every
    OpenAI-like images route makes; (state, raw, body, knobs, n) or the error answer."""
    start = await server._prelude(request, _prompt_texts)
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, _, knobs = start
    for name in ("model", "prompt"):
        if not isinstance(body.get(name), str) or not body[name]:
            return server._json(state, 400, openai_wire.missing_param(name))
    n = body.get("n", 1)
    if not isinstance(n, int) or not 1 <= n <= max_n:
        return server._bad_request(state, f"Invalid value for 'n': {n}. Must be between 1 and {max_n}.", "n")
    return state, raw, body, knobs, n


async def _openai_start(request: web.Request):
    """`_checked_start`, then the latency knob and the faults; (state, body, n) or the error answer."""
    start = await _checked_start(request)
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, knobs, n = start
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await server._fault(request, state, knobs, raw, body["model"])) is not None:
        return answered
    return state, body, n


async def openai_images(request: web.Request) -> web.StreamResponse:
    start = await _openai_start(request)
    if isinstance(start, web.StreamResponse):
        return start
    state, body, n = start
    model, prompt = body["model"], body["prompt"]
    answer: dict = {"created": 1_700_000_000 + state.next_id()}
    if model.startswith("gpt-image"):
        if "response_format" in body:
            return server._bad_request(state, "Unknown parameter: 'response_format'.", "response_format")
        fmt = body.get("output_format") or "png"
        if fmt not in wire.MEDIA_TYPES:
            return server._bad_request(state, f"The emulator makes png and jpeg images, not {fmt}.", "output_format")
        quality = body.get("quality") or "auto"
        quality = "medium" if quality == "auto" else quality
        if quality not in wire.GPT_IMAGE_TOKENS:
            return server._bad_request(state, f"Invalid value: '{quality}'. Supported values are: 'low', 'medium', "
                                       "'high', and 'auto'.", "quality")
        size = body.get("size") or "auto"
        answer["data"] = [{"b64_json": wire.image_b64(prompt, i, fmt)} for i in range(n)]
        answer.update(background=body.get("background") or "opaque", output_format=fmt,
                      quality=quality, size="1024x1024" if size == "auto" else size,
                      usage=wire.gpt_image_usage(prompt, n, quality))
    else:
        response_format = body.get("response_format") or "url"
        if response_format not in ("url", "b64_json"):
            return server._bad_request(state, f"Invalid value: '{response_format}'. Supported values are: 'url' "
                                       "and 'b64_json'.", "response_format")
        answer["data"] = [wire.openai_item(_base_url(request), prompt, i, "png", response_format == "url",
                                           revised=model == "dall-e-3") for i in range(n)]
    return server._json(state, 200, answer)


async def xai_images(request: web.Request) -> web.StreamResponse:
    start = await _openai_start(request)
    if isinstance(start, web.StreamResponse):
        return start
    state, body, n = start
    for name in XAI_UNSUPPORTED:
        if name in body:
            return server._json(state, 400, {"code": "Client specified an invalid argument",
                                             "error": f"Argument not supported: {name}"})
    as_url = (body.get("response_format") or "url") == "url"
    data = [wire.openai_item(_base_url(request), body["prompt"], i, "jpeg", as_url, revised=True) for i in range(n)]
    return server._json(state, 200, {"data": data})


async def together_images(request: web.Request) -> web.StreamResponse:
    start = await _checked_start(request, max_n=4)
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, knobs, n = start
    response_format = body.get("response_format") or "url"
    fmt = body.get("output_format") or "jpeg"
    if response_format not in ("base64", "url") or fmt not in wire.MEDIA_TYPES:
        return server._bad_request(state, "response_format must be base64 or url; output_format jpeg or png")
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await server._fault(request, state, knobs, raw, body["model"])) is not None:
        return answered
    prompt, data = body["prompt"], []
    for i in range(n):
        if response_format == "base64":
            data.append({"index": i, "b64_json": wire.image_b64(prompt, i, fmt), "type": "b64_json"})
        else:
            data.append({"index": i, "url": wire.image_url(_base_url(request), prompt, i, fmt), "type": "url"})
    return server._json(state, 200, {"id": f"emu-together-{state.next_id()}", "model": body["model"],
                                     "object": "list", "data": data})


async def imagen_predict(request: web.Request) -> web.StreamResponse:
    state, raw, body = await server._receive(request)
    json_answer = gemini_routes._json
    if not gemini_routes._has_key(request):
        return json_answer(state, 403, gemini_wire.unregistered_caller())
    instances = body.get("instances") if isinstance(body, dict) else None
    prompt = instances[0].get("prompt") if isinstance(instances, list) and instances and isinstance(instances[0], dict) else None
    if not isinstance(prompt, str) or not prompt:
        return json_answer(state, 400, gemini_wire.invalid_argument("* PredictRequest.instances[0].prompt: prompt is required"))
    parameters = body.get("parameters") or {}
    count = parameters.get("sampleCount", 1)
    if not isinstance(count, int) or not 1 <= count <= 4:
        return json_answer(state, 400, gemini_wire.invalid_argument("sampleCount must be between 1 and 4."))
    if parameters.get("aspectRatio", "1:1") not in IMAGEN_RATIOS:
        return json_answer(state, 400, gemini_wire.invalid_argument(f"Unsupported aspect ratio: {parameters['aspectRatio']}"))
    mime = (parameters.get("outputOptions") or {}).get("mimeType", "image/png")
    fmt = {"image/png": "png", "image/jpeg": "jpeg"}.get(mime)
    if fmt is None:
        return json_answer(state, 400, gemini_wire.invalid_argument(f"Unsupported output mime type: {mime}"))
    try:
        knobs = parse_knobs(request.headers, [prompt]).scoped(request.match_info["model"], request.path)
    except KnobError as exc:
        return json_answer(state, 400, gemini_wire.invalid_argument(str(exc)))
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    model = request.match_info["model"]
    if (answered := await gemini_routes._fault(request, state, knobs, raw, model)) is not None:
        return answered
    return json_answer(state, 200, wire.imagen_predictions(prompt, count, fmt))


async def workers_ai_run(request: web.Request) -> web.StreamResponse:
    state, raw, body = await server._receive(request)
    json_answer = workers_ai_routes._json
    model = request.match_info["model"]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return json_answer(state, 401, workers_ai_wire.authentication_error())
    if not isinstance(body, dict) or not isinstance(body.get("prompt"), str) or not body["prompt"]:
        return json_answer(state, 400, workers_ai_wire.bad_input("Error: required properties at '/' are 'prompt'"))
    flux = "flux" in model
    if flux and not 1 <= body.get("steps", 4) <= 8:
        return json_answer(state, 400, workers_ai_wire.bad_input("Error: '/steps' must be <= 8"))
    if not flux and not all(256 <= body.get(side, 1024) <= 2048 for side in ("width", "height")):
        return json_answer(state, 400, workers_ai_wire.bad_input("Error: '/width' and '/height' must be 256 to 2048"))
    try:
        knobs = parse_knobs(request.headers, [body["prompt"]]).scoped(model, request.path)
    except KnobError as exc:
        return json_answer(state, 400, workers_ai_wire.bad_input(str(exc)))
    await server._sleep(server._ms(knobs.latency_ms, state.config.latency_ms))
    if (answered := await workers_ai_routes._fault(request, state, knobs, raw, model)) is not None:
        return answered
    if flux:
        return json_answer(state, 200, workers_ai_wire.envelope({"image": wire.image_b64(body["prompt"], 0, "jpeg")}))
    return web.Response(body=wire.image_bytes(body["prompt"], 0, "png"), content_type="image/png",
                        headers={"cf-ray": f"emu{state.next_id():012x}-EMU"})
