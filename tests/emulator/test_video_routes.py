"""The emulator's video routes, spoken to directly: OpenAI's Videos API, Gemini's Veo operations, xAI's
deferred requests and Together's v2 jobs follow video_wire's documented lifecycle (final at the K-th
poll), content rule, reported costs, keyless file hosts, validation and error bodies."""

from __future__ import annotations

import httpx
import pytest

from scripts.emulator import EmulatorThread
from scripts.emulator.video_wire import video_bytes

BEARER = {"authorization": "Bearer k"}
GOOGLE = {"x-goog-api-key": "k"}
VEO = "/gemini/v1beta/models/veo-3.0-generate-001:predictLongRunning"


@pytest.fixture(scope="module")
def base_url():
    with EmulatorThread() as running:
        yield running.base_url


def test_openai_lifecycle_and_content(base_url):
    prompt = "a cat [[emulator:polls=3]]"
    created = httpx.post(base_url + "/v1/videos", headers=BEARER,
                         json={"model": "sora-2", "prompt": prompt, "seconds": "8", "size": "1280x720"}).json()
    assert (created["status"], created["progress"], created["seconds"]) == ("queued", 0, "8")
    url = f"{base_url}/v1/videos/{created['id']}"
    early = httpx.get(url + "/content", headers=BEARER)
    assert early.status_code == 400 and early.json()["error"]["code"] == "video_not_ready"
    seen = [httpx.get(url, headers=BEARER).json() for _ in range(3)]
    assert [(v["status"], v["progress"]) for v in seen] == [("in_progress", 33), ("in_progress", 66), ("completed", 100)]
    assert seen[-1]["expires_at"] == seen[-1]["completed_at"] + 3600
    content = httpx.get(url + "/content", headers=BEARER)
    assert content.headers["content-type"] == "video/mp4"
    assert content.content == video_bytes("video", "sora-2", 8, prompt)
    assert len(content.content) == len(video_bytes("video", "sora-2", 8, "")) and content.content[4:8] == b"ftyp"
    sprites = httpx.get(url + "/content", params={"variant": "spritesheet"}, headers=BEARER)
    assert sprites.headers["content-type"] == "image/jpeg"


def test_openai_failed_job_validation_and_faults(base_url):
    created = httpx.post(base_url + "/v1/videos", headers=BEARER, json={
        "model": "sora-2", "prompt": "x [[emulator:polls=1]] [[emulator:fault=video-failed]]"}).json()
    failed = httpx.get(f"{base_url}/v1/videos/{created['id']}", headers=BEARER).json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "moderation_blocked"
    assert httpx.post(base_url + "/v1/videos", json={"model": "sora-2", "prompt": "x"}).status_code == 401
    bad = httpx.post(base_url + "/v1/videos", headers=BEARER, json={"model": "sora-2", "prompt": "x", "seconds": "5"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "seconds"
    limited = httpx.post(base_url + "/v1/videos", headers=BEARER, json={"model": "sora-2", "prompt": "[[emulator:fault=429]]"})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "2"
    assert httpx.get(base_url + "/v1/videos/video_unknown", headers=BEARER).status_code == 404


def test_gemini_operation_lifecycle_and_download(base_url):
    prompt = "waves [[emulator:polls=2]]"
    created = httpx.post(base_url + VEO, headers=GOOGLE, json={
        "instances": [{"prompt": prompt}], "parameters": {"aspectRatio": "9:16", "durationSeconds": 8}})
    name = created.json()["name"]
    assert name.startswith("models/veo-3.0-generate-001/operations/emu-op-")
    first = httpx.get(f"{base_url}/gemini/v1beta/{name}", headers=GOOGLE).json()
    assert "done" not in first and first["metadata"]["progressPercent"] == 50
    done = httpx.get(f"{base_url}/gemini/v1beta/{name}", headers=GOOGLE).json()
    uri = done["response"]["generateVideoResponse"]["generatedSamples"][0]["video"]["uri"]
    assert done["done"] is True and uri.startswith(base_url + "/gemini/v1beta/files/") and uri.endswith(":download?alt=media")
    assert httpx.get(uri).status_code == 403  # the file needs the key too
    video = httpx.get(uri, headers=GOOGLE)
    assert video.headers["content-type"] == "video/mp4"
    assert video.content == video_bytes("video", "veo-3.0-generate-001", 8, prompt)


def test_gemini_validation_rai_filter_and_faults(base_url):
    def create(parameters: dict, prompt: str = "p", model: str = "veo-3.0-generate-001", headers=GOOGLE):
        return httpx.post(f"{base_url}/gemini/v1beta/models/{model}:predictLongRunning", headers=headers,
                          json={"instances": [{"prompt": prompt}], "parameters": parameters})

    assert create({}, headers={}).status_code == 403
    assert create({"durationSeconds": 4}).json()["error"]["status"] == "INVALID_ARGUMENT"
    assert create({"resolution": "720p"}, model="veo-2.0-generate-001").status_code == 400
    assert create({"durationSeconds": 5}, model="veo-2.0-generate-001").status_code == 200
    limited = create({}, prompt="[[emulator:fault=429]]")
    assert limited.status_code == 429 and limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    name = create({}, prompt="[[emulator:polls=1]] [[emulator:fault=video-failed]]").json()["name"]
    filtered = httpx.get(f"{base_url}/gemini/v1beta/{name}", headers=GOOGLE).json()
    answer = filtered["response"]["generateVideoResponse"]
    assert filtered["done"] and answer["raiMediaFilteredCount"] == 1 and "generatedSamples" not in answer


def test_xai_lifecycle_cdn_and_reported_cost(base_url):
    from scripts.emulator.video_wire import XAI_TICKS_PER_USD, reported_cost_usd

    prompt = "a comet [[emulator:polls=2]]"
    body = {"model": "grok-imagine-video", "prompt": prompt, "duration": 3, "aspect_ratio": "9:16", "resolution": "720p"}
    created = httpx.post(base_url + "/xai/v1/videos/generations", headers=BEARER, json=body).json()
    assert set(created) == {"request_id"}
    url = f"{base_url}/xai/v1/videos/{created['request_id']}"
    pending = httpx.get(url, headers=BEARER).json()
    assert (pending["status"], pending["progress"]) == ("pending", 50)
    done = httpx.get(url, headers=BEARER).json()
    assert done["status"] == "done" and done["video"]["duration"] == 3 and done["video"]["respect_moderation"] is True
    assert done["usage"]["cost_in_usd_ticks"] == round(reported_cost_usd(3) * XAI_TICKS_PER_USD)
    video = httpx.get(done["video"]["url"])
    assert video.headers["content-type"] == "video/mp4"
    assert video.content == video_bytes("video", "grok-imagine-video", 3, prompt)
    leaked = httpx.get(done["video"]["url"], headers=BEARER)
    assert leaked.status_code == 400 and leaked.json()["error"]["code"] == "key_sent_to_file_host"


def test_xai_failure_validation_and_faults(base_url):
    start = base_url + "/xai/v1/videos/generations"
    created = httpx.post(start, headers=BEARER, json={
        "model": "grok-imagine-video", "prompt": "x [[emulator:polls=1]] [[emulator:fault=video-failed]]"}).json()
    blocked = httpx.get(f"{base_url}/xai/v1/videos/{created['request_id']}", headers=BEARER).json()
    assert blocked["status"] == "done" and blocked["video"]["respect_moderation"] is False and "url" not in blocked["video"]
    assert httpx.post(start, json={"model": "grok-imagine-video", "prompt": "x"}).status_code == 401
    long = httpx.post(start, headers=BEARER, json={"model": "grok-imagine-video", "prompt": "x", "duration": 16})
    assert long.status_code == 400 and long.json()["error"]["param"] == "duration"
    wide = httpx.post(start, headers=BEARER, json={"model": "grok-imagine-video", "prompt": "x", "resolution": "1080p"})
    assert wide.status_code == 400
    limited = httpx.post(start, headers=BEARER, json={"model": "grok-imagine-video", "prompt": "[[emulator:fault=429]]"})
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limit_exceeded"
    assert httpx.get(base_url + "/xai/v1/videos/nope", headers=BEARER).status_code == 404


def test_together_lifecycle_short_link_and_reported_cost(base_url):
    from scripts.emulator.video_wire import reported_cost_usd

    prompt = "a street [[emulator:polls=2]]"
    body = {"model": "minimax/hailuo-02", "prompt": prompt, "width": 1366, "height": 768, "seconds": "10"}
    created = httpx.post(base_url + "/together/v2/videos", headers=BEARER, json=body).json()
    assert (created["object"], created["status"], created["model"]) == ("video", "queued", "minimax/hailuo-02")
    url = f"{base_url}/together/v2/videos/{created['id']}"
    assert httpx.get(url, headers=BEARER).json()["status"] == "in_progress"
    done = httpx.get(url, headers=BEARER).json()
    assert (done["status"], done["seconds"], done["size"]) == ("completed", "10", "1366x768")
    assert done["outputs"]["cost"] == reported_cost_usd(10)
    link = httpx.get(done["outputs"]["video_url"])
    assert link.status_code == 302 and link.headers["location"].startswith("/together/files/")
    video = httpx.get(done["outputs"]["video_url"], follow_redirects=True)
    assert video.content == video_bytes("video", "minimax/hailuo-02", 10, prompt)
    assert httpx.get(done["outputs"]["video_url"], headers=BEARER).status_code == 400


def test_together_failure_validation_and_faults(base_url):
    start = base_url + "/together/v2/videos"
    created = httpx.post(start, headers=BEARER, json={
        "model": "google/veo-3.0", "prompt": "x [[emulator:polls=1]] [[emulator:fault=video-failed]]"}).json()
    failed = httpx.get(f"{start}/{created['id']}", headers=BEARER).json()
    assert failed["status"] == "failed" and failed["error"]["code"] == "moderation_blocked" and "outputs" not in failed
    assert httpx.post(start, json={"model": "google/veo-3.0", "prompt": "x"}).status_code == 401
    bad = httpx.post(start, headers=BEARER, json={"model": "google/veo-3.0", "prompt": "x", "seconds": 8})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "seconds"
    limited = httpx.post(start, headers=BEARER, json={"model": "google/veo-3.0", "prompt": "[[emulator:fault=503]]"})
    assert limited.status_code == 503
    assert httpx.get(start + "/vid-emu-999999", headers=BEARER).status_code == 404
