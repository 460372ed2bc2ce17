"""Video generation wire formats (OpenAI Videos API, Gemini API Veo long-running operations): job
objects, operations, content bytes and errors, as pure functions (no I/O).

The rules, so tests can compute what the routes answer:

- **Lifecycle.** A create answers the job `queued`, progress 0. Each status poll counts; the K-th poll
  (K from `[[emulator:polls=K]]` in the prompt or `x-emulator-polls`, default `DEFAULT_POLLS`; 0 counts
  as 1) finds it final, earlier polls `in_progress` with progress `100 * k // K` (Gemini: not `done`,
  `metadata.progressPercent` the same number). Final is `completed`, or `failed` with
  `[[emulator:fault=video-failed]]`: OpenAI `error {"code": "moderation_blocked", "message": …}`;
  Gemini `done` with `generateVideoResponse {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": […]}`
  and no sample (Veo's documented safety-filter answer).
- **Content.** `video_bytes(variant, model, seconds, prompt)` = `MAGIC[variant]` + SHA-256 of
  `"{variant}|{model}|{seconds}|{prompt}"` repeated and cut to `BYTES_PER_SECOND × seconds` bytes for
  `video` (`FIXED_IMAGE_BYTES` for `thumbnail`, `spritesheet`); `model` the upstream name, `prompt` as
  sent (markers included), `seconds` the job's (OpenAI default 4, Gemini default 8).
- **xAI** answers `{"request_id": "xai-vid-emu-<n>"}`; a poll answers `{"status": "pending", "progress"}`,
  then `{"status": "done", "video": {"url", "duration", "respect_moderation": true}, "usage":
  {"cost_in_usd_ticks"}}` with the url `{host}/xai-cdn/xai-vid-emu-<n>.mp4` (the CDN stand-in); the
  failure is `done` with `respect_moderation: false` and no url.
- **Together** answers the job (`id` `vid-emu-<n>`, `status` `queued`), then `in_progress`, then
  `completed` with `seconds`, `size` and `outputs {"cost", "video_url": "{host}/together/shrt/vid-emu-<n>"}`;
  the short link answers 302 to `{host}/together/files/vid-emu-<n>.mp4`. The failure is `failed` with
  `error {"code": "moderation_blocked", "message"}` (Together documents `error {code, message}` but not its
  codes; this one follows OpenAI's).
- **Reported cost** (xAI, Together): `reported_cost_usd(seconds)` = `REPORTED_USD_BASE +
  REPORTED_USD_PER_SECOND × seconds`, rounded to 6 places — deliberately unlike any catalog price, so a
  test sees which one billed; xAI reports it as ticks (× 10^10).
- **Refusals** of an xAI or Together create (missing field, duration out of 1–15, an unknown aspect ratio /
  resolution pair, a non-string `seconds`) and unknown ids answer the OpenAI error body, as the
  emulator's other xAI and Together routes do (both gateways' adapters read it with `openai_format.errors`).
- **Hosted files** (xAI CDN, Together short link and file) carry no credentials: a request that sends an
  `Authorization` header is answered 400 (`key_sent_to_file_host`), so a leaked key fails loudly.
- **OpenAI** answers the job object (`id` `video_emu_<n>`, `seconds` as a string, `expires_at` one hour
  after completion). **Gemini** names the operation `models/{model}/operations/emu-op-<n>`; its sample
  uri is `{the host the request came to}/gemini/v1beta/files/emu-op-<n>:download?alt=media`.
"""

from __future__ import annotations

import hashlib
import json

DEFAULT_POLLS = 2
BYTES_PER_SECOND = 4096
FIXED_IMAGE_BYTES = 2048
MAGIC = {
    "video": b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom",
    "thumbnail": b"RIFF\x00\x00\x00\x00WEBPVP8 ",
    "spritesheet": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
}
CONTENT_TYPES = {"video": "video/mp4", "thumbnail": "image/webp", "spritesheet": "image/jpeg"}
OPENAI_SECONDS = ("4", "8", "12")
OPENAI_SIZES = ("720x1280", "1280x720", "1024x1792", "1792x1024")
GEMINI_DURATIONS = (("veo-2.", (5, 6, 7, 8)), ("veo-3.0", (8,)), ("veo-3.1", (4, 6, 8)))
GEMINI_ASPECT_RATIOS = ("16:9", "9:16")
GEMINI_RESOLUTIONS = ("720p", "1080p")
XAI_SIZES = {  # (aspect_ratio, resolution) -> WIDTHxHEIGHT, the gateway's table read backwards
    ("16:9", "720p"): "1280x720", ("9:16", "720p"): "720x1280", ("1:1", "720p"): "720x720",
    ("4:3", "720p"): "960x720", ("3:4", "720p"): "720x960", ("3:2", "720p"): "1080x720", ("2:3", "720p"): "720x1080",
    ("16:9", "480p"): "854x480", ("9:16", "480p"): "480x854", ("1:1", "480p"): "480x480",
    ("4:3", "480p"): "640x480", ("3:4", "480p"): "480x640", ("3:2", "480p"): "720x480", ("2:3", "480p"): "480x720",
}
REPORTED_USD_BASE = 0.0021
REPORTED_USD_PER_SECOND = 0.0137
XAI_TICKS_PER_USD = 10_000_000_000
MODERATION_MESSAGE = "The request was blocked by the emulator's moderation rule (fault video-failed)."
RAI_REASON = ("Unable to generate videos because the prompt may violate the policies. Support code: 00000 "
              "(emulated)")


def encode(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def video_bytes(variant: str, model: str, seconds: int, prompt: str) -> bytes:
    seed = hashlib.sha256(f"{variant}|{model}|{seconds}|{prompt}".encode()).digest()
    length = BYTES_PER_SECOND * seconds if variant == "video" else FIXED_IMAGE_BYTES
    return MAGIC[variant] + (seed * (length // len(seed) + 1))[:length]


def new_job(job_id: str, model: str, prompt: str, seconds: int, size: str, polls: int | None, failed: bool,
            created_at: int) -> dict:
    return {"id": job_id, "model": model, "prompt": prompt, "seconds": seconds, "size": size,
            "polls_needed": max(1, DEFAULT_POLLS if polls is None else polls), "polls_seen": 0,
            "failed": failed, "created_at": created_at, "completed_at": None}


def poll(job: dict, now: int) -> None:
    """One status poll: count it, and finish the job at the K-th."""
    job["polls_seen"] += 1
    if job["polls_seen"] >= job["polls_needed"] and job["completed_at"] is None:
        job["completed_at"] = now


def stage(job: dict) -> tuple[str, int]:
    """(status, progress) as the job stands."""
    if job["completed_at"] is not None:
        return ("failed" if job["failed"] else "completed"), 100
    if job["polls_seen"] == 0:
        return "queued", 0
    return "in_progress", 100 * job["polls_seen"] // job["polls_needed"]


# ---- OpenAI ----------------------------------------------------------------------------------------


def openai_video(job: dict) -> dict:
    status, progress = stage(job)
    done = job["completed_at"]
    return {
        "id": job["id"], "object": "video", "model": job["model"], "status": status, "progress": progress,
        "created_at": job["created_at"], "completed_at": done,
        "expires_at": done + 3600 if done is not None and status == "completed" else None,
        "prompt": job["prompt"], "seconds": str(job["seconds"]), "size": job["size"],
        "remixed_from_video_id": None,
        "error": {"code": "moderation_blocked", "message": MODERATION_MESSAGE} if status == "failed" else None,
    }


def openai_error(message: str, param: str | None = None, code: str | None = None,
                 kind: str = "invalid_request_error") -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}


def openai_create_problem(body: dict) -> tuple[str, str] | None:
    """(message, param) of what OpenAI's create would refuse; None when the body is acceptable."""
    for field in ("model", "prompt"):
        if not isinstance(body.get(field), str) or not body[field]:
            return f"Missing required parameter: '{field}'.", field
    seconds = body.get("seconds", "4")
    if seconds not in OPENAI_SECONDS:
        return f"Invalid value: '{seconds}'. Supported values are: 4, 8, and 12.", "seconds"
    size = body.get("size", "720x1280")
    if size not in OPENAI_SIZES:
        return f"Invalid value: '{size}'. Supported values are: {', '.join(OPENAI_SIZES)}.", "size"
    return None


# ---- Gemini ----------------------------------------------------------------------------------------


def gemini_operation(job: dict, download_base: str) -> dict:
    status, progress = stage(job)
    operation: dict = {"name": job["id"]}
    if status in ("queued", "in_progress"):
        operation["metadata"] = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningMetadata",
                                 "progressPercent": progress}
        return operation
    operation["done"] = True
    op_id = job["id"].rsplit("/", 1)[-1]
    if status == "failed":
        answer = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": [RAI_REASON]}
    else:
        uri = f"{download_base}/gemini/v1beta/files/{op_id}:download?alt=media"
        answer = {"generatedSamples": [{"video": {"uri": uri}}]}
    operation["response"] = {"@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                             "generateVideoResponse": answer}
    return operation


def gemini_create_problem(model: str, body: dict) -> str | None:
    """The INVALID_ARGUMENT message Google would give, or None."""
    instances = body.get("instances")
    if not isinstance(instances, list) or not instances or not isinstance(instances[0], dict):
        return "* PredictLongRunningRequest.instances: instances is not specified"
    if not isinstance(instances[0].get("prompt"), str) or not instances[0]["prompt"]:
        return "* instances[0].prompt: prompt is required"
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        return "Invalid JSON payload received. 'parameters' must be an object."
    ratio = parameters.get("aspectRatio", "16:9")
    if ratio not in GEMINI_ASPECT_RATIOS:
        return f"Unsupported aspect ratio: {ratio}. Supported values: 16:9, 9:16."
    duration = parameters.get("durationSeconds", 8)
    for prefix, allowed in GEMINI_DURATIONS:
        if model.startswith(prefix) and duration not in allowed:
            return f"The number value for `durationSeconds` is out of bound. Please provide a value in {list(allowed)}."
    if "resolution" in parameters:
        if model.startswith("veo-2."):
            return "`resolution` isn't supported by this model."
        if parameters["resolution"] not in GEMINI_RESOLUTIONS:
            return f"Unsupported resolution: {parameters['resolution']}."
    image = instances[0].get("image")
    if image is not None and not (isinstance(image, dict) and image.get("bytesBase64Encoded") and image.get("mimeType")):
        return "* instances[0].image: bytesBase64Encoded and mimeType are required"
    return None


def gemini_size(parameters: dict) -> str:
    ratio = parameters.get("aspectRatio", "16:9")
    tall = parameters.get("resolution") == "1080p"
    width, height = (1920, 1080) if tall else (1280, 720)
    return f"{width}x{height}" if ratio == "16:9" else f"{height}x{width}"


def reported_cost_usd(seconds: int) -> float:
    return round(REPORTED_USD_BASE + REPORTED_USD_PER_SECOND * seconds, 6)


# ---- xAI -------------------------------------------------------------------------------------------


def xai_create_problem(body: dict) -> tuple[str, str] | None:
    """(message, param) of what xAI's create would refuse; None when the body is acceptable."""
    for field in ("model", "prompt"):
        if not isinstance(body.get(field), str) or not body[field]:
            return f"Missing required parameter: '{field}'.", field
    duration = body.get("duration", 6)
    if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= 15:
        return f"duration must be an integer between 1 and 15, got {duration!r}.", "duration"
    if (body.get("aspect_ratio", "16:9"), body.get("resolution", "480p")) not in XAI_SIZES:
        return (f"Unsupported aspect_ratio / resolution: {body.get('aspect_ratio')!r} / {body.get('resolution')!r}.",
                "aspect_ratio")
    image = body.get("image")
    if image is not None and not (isinstance(image, dict) and isinstance(image.get("url"), str) and image["url"]):
        return "image must be an object with a url.", "image"
    return None


def xai_size(body: dict) -> str:
    return XAI_SIZES[(body.get("aspect_ratio", "16:9"), body.get("resolution", "480p"))]


def xai_status(job: dict, host: str) -> dict:
    status, progress = stage(job)
    if status in ("queued", "in_progress"):
        return {"status": "pending", "model": job["model"], "progress": progress}
    if status == "failed":
        return {"status": "done", "model": job["model"], "video": {"duration": job["seconds"], "respect_moderation": False}}
    return {"status": "done", "model": job["model"],
            "video": {"url": f"{host}/xai-cdn/{job['id']}.mp4", "duration": job["seconds"], "respect_moderation": True},
            "usage": {"cost_in_usd_ticks": round(reported_cost_usd(job["seconds"]) * XAI_TICKS_PER_USD)}}


# ---- Together --------------------------------------------------------------------------------------


def together_create_problem(body: dict) -> tuple[str, str] | None:
    for field in ("model", "prompt"):
        if not isinstance(body.get(field), str) or not body[field]:
            return f"Missing required parameter: '{field}'.", field
    for field in ("width", "height"):
        value = body.get(field, 1)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"'{field}' must be a positive integer.", field
    seconds = body.get("seconds", "6")
    if not isinstance(seconds, str) or not seconds.isdigit() or int(seconds) < 1:
        return f"'seconds' must be a string of a whole number of seconds, got {seconds!r}.", "seconds"
    frames = body.get("frame_images")
    if frames is not None and not (isinstance(frames, list) and all(
            isinstance(f, dict) and isinstance(f.get("input_image"), str) for f in frames)):
        return "frame_images must be a list of {input_image, frame}.", "frame_images"
    return None


def together_size(body: dict) -> str:
    return f"{body.get('width', 1366)}x{body.get('height', 768)}"


def together_video(job: dict, host: str) -> dict:
    status, _ = stage(job)
    answer = {"id": job["id"], "object": "video", "model": job["model"], "status": status,
              "created_at": job["created_at"]}
    if job["completed_at"] is not None:
        answer["completed_at"] = job["completed_at"]
    if status == "completed":
        answer.update(seconds=str(job["seconds"]), size=job["size"],
                      outputs={"cost": reported_cost_usd(job["seconds"]), "video_url": f"{host}/together/shrt/{job['id']}"})
    elif status == "failed":
        answer["error"] = {"code": "moderation_blocked", "message": MODERATION_MESSAGE}
    return answer
