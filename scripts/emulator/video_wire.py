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
