"""Video generation transforms: OpenAI's Videos API (Sora) and Gemini's Veo long-running operations —
request mapping, the seconds/size rules, status mapping, content requests (and where the Gemini key may
go), the job's OpenAI object and its usage row, per-second cost. Plain Python (these also run inside
Pyodide)."""

from __future__ import annotations

import base64
import json

import pytest

from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline import video_jobs
from gateway.pipeline.context import Caller, RequestContext, Target
from gateway.pipeline.cost import video_cost
from gateway.providers import registry
from gateway.providers.base import Endpoint, VideoJobState
from gateway.providers.gemini.video import VIDEO as GEMINI
from gateway.providers.openai.video import VIDEO as OPENAI

OPENAI_ENDPOINT = Endpoint(base_url="https://api.openai.com/v1/", api_key="sk-test")
GEMINI_ENDPOINT = Endpoint(base_url="https://generativelanguage.googleapis.com", api_key="g-key")
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\nxyz").decode()


def refused(call, param: str) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        call()
    assert caught.value.category is ErrorCategory.INVALID_REQUEST and caught.value.status == 400
    assert caught.value.param == param
    return caught.value


def test_registry_offers_video_where_expected():
    offered = {m.name for m in registry.all_manifests() if m.video is not None}
    assert offered == {"openai", "gemini", "xai", "together"}


# ---- OpenAI ----------------------------------------------------------------------------------------


def test_openai_create_sends_seconds_as_a_string_and_the_upstream_model():
    body = {"model": "openai/sora-2", "prompt": "a fox", "seconds": 8, "size": "1280x720", "extra": 1}
    request = OPENAI.build_create(body, "sora-2", OPENAI_ENDPOINT)
    assert (request.method, request.url) == ("POST", "https://api.openai.com/v1/videos")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert json.loads(request.body) == {"model": "sora-2", "prompt": "a fox", "seconds": "8", "size": "1280x720",
                                        "extra": 1}


def test_openai_defaults_and_limits():
    assert OPENAI.job_shape({"prompt": "x"}, "sora-2") == (4, "720x1280")
    assert OPENAI.job_shape({"seconds": "12", "size": "1024x1792"}, "sora-2-pro") == (12, "1024x1792")
    refused(lambda: OPENAI.job_shape({"seconds": "5"}, "sora-2"), "seconds")
    refused(lambda: OPENAI.job_shape({"seconds": "four"}, "sora-2"), "seconds")
    refused(lambda: OPENAI.job_shape({"size": "1792x1024"}, "sora-2"), "size")
    refused(lambda: OPENAI.job_shape({"size": "1920x1080"}, "sora-2-pro"), "size")


@pytest.mark.parametrize("payload, expected", [
    ({"id": "video_1", "status": "queued", "progress": 0, "seconds": "8"}, ("queued", 0, "video_1", 8, None)),
    ({"id": "video_1", "status": "in_progress", "progress": 42}, ("in_progress", 42, "video_1", None, None)),
    ({"id": "video_1", "status": "completed", "progress": 99, "seconds": "8"}, ("completed", 100, "video_1", 8, None)),
    ({"id": "video_1", "status": "failed", "error": {"code": "moderation_blocked", "message": "no"}},
     ("failed", 0, "video_1", None, {"code": "moderation_blocked", "message": "no"})),
    ({"id": "video_1", "status": "failed"},
     ("failed", 0, "video_1", None, {"code": "video_generation_failed", "message": "the provider reported the job failed"})),
    ({"id": "video_1", "status": "rendering"}, ("in_progress", 0, "video_1", None, None)),
])
def test_openai_status_mapping(payload, expected):
    state = OPENAI.parse_status(payload)
    assert (state.status, state.progress, state.upstream_id, state.seconds, state.error) == expected


def test_openai_created_needs_an_id():
    with pytest.raises(UpstreamError) as caught:
        OPENAI.parse_created({"status": "queued"})
    assert caught.value.category is ErrorCategory.SERVER_ERROR


def test_openai_status_and_content_requests():
    status = OPENAI.build_status("video_a/b", OPENAI_ENDPOINT)
    assert (status.method, status.url, status.body) == ("GET", "https://api.openai.com/v1/videos/video_a%2Fb", None)
    content = OPENAI.build_content("video_1", None, "thumbnail", OPENAI_ENDPOINT)
    assert content.url == "https://api.openai.com/v1/videos/video_1/content?variant=thumbnail"
    assert content.headers == {"authorization": "Bearer sk-test"}


# ---- Gemini ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size, parameters", [
    (None, {"aspectRatio": "16:9", "resolution": "720p"}),
    ("720x1280", {"aspectRatio": "9:16", "resolution": "720p"}),
    ("1920x1080", {"aspectRatio": "16:9", "resolution": "1080p"}),
    ("1080x1920", {"aspectRatio": "9:16", "resolution": "1080p"}),
])
def test_gemini_size_becomes_aspect_ratio_and_resolution(size, parameters):
    body = {"model": "gemini/veo-3.0-generate-001", "prompt": "waves", **({"size": size} if size else {})}
    request = GEMINI.build_create(body, "veo-3.0-generate-001", GEMINI_ENDPOINT)
    assert request.url == ("https://generativelanguage.googleapis.com/v1beta/models/"
                           "veo-3.0-generate-001:predictLongRunning")
    assert request.headers["x-goog-api-key"] == "g-key"
    assert json.loads(request.body) == {"instances": [{"prompt": "waves"}],
                                        "parameters": {**parameters, "durationSeconds": 8}}


def test_gemini_veo2_has_no_resolution_and_takes_5_to_8_seconds():
    request = GEMINI.build_create({"prompt": "p", "seconds": "6", "negative_prompt": "rain",
                                   "person_generation": "dont_allow"}, "models/veo-2.0-generate-001", GEMINI_ENDPOINT)
    assert json.loads(request.body)["parameters"] == {"aspectRatio": "16:9", "durationSeconds": 6,
                                                      "negativePrompt": "rain", "personGeneration": "dont_allow"}
    refused(lambda: GEMINI.job_shape({"seconds": "4"}, "veo-2.0-generate-001"), "seconds")
    refused(lambda: GEMINI.job_shape({"size": "1920x1080"}, "veo-2.0-generate-001"), "size")


def test_gemini_durations_per_family():
    assert GEMINI.job_shape({}, "veo-3.0-fast-generate-001") == (8, "1280x720")
    refused(lambda: GEMINI.job_shape({"seconds": "4"}, "veo-3.0-generate-001"), "seconds")
    assert GEMINI.job_shape({"seconds": "4"}, "veo-3.1-generate-preview")[0] == 4
    refused(lambda: GEMINI.job_shape({"seconds": "5"}, "veo-3.1-generate-preview"), "seconds")
    refused(lambda: GEMINI.job_shape({"size": "1024x1792"}, "veo-3.0-generate-001"), "size")


def test_gemini_image_reference():
    body = {"prompt": "p", "input_reference": {"image_url": f"data:image/png;base64,{PNG}"}}
    instance = json.loads(GEMINI.build_create(body, "veo-3.0-generate-001", GEMINI_ENDPOINT).body)["instances"][0]
    assert instance == {"prompt": "p", "image": {"bytesBase64Encoded": PNG, "mimeType": "image/png"}}
    for reference in ({"image_url": "https://example.com/a.png"}, {"file_id": "file_1"},
                      {"image_url": "data:image/png;base64,@@@"}):
        refused(lambda: GEMINI.build_create({"prompt": "p", "input_reference": reference}, "veo-3.0-generate-001",
                                            GEMINI_ENDPOINT), "input_reference")


def test_gemini_created_and_status_mapping():
    name = "models/veo-3.0-generate-001/operations/abc"
    assert GEMINI.parse_created({"name": name}) == VideoJobState(status="queued", progress=0, upstream_id=name)
    running = GEMINI.parse_status({"name": name, "metadata": {"progressPercent": 40}})
    assert (running.status, running.progress) == ("in_progress", 40)
    uri = "https://generativelanguage.googleapis.com/v1beta/files/abc:download?alt=media"
    done = GEMINI.parse_status({"name": name, "done": True, "response": {"generateVideoResponse": {
        "generatedSamples": [{"video": {"uri": uri}}]}}})
    assert (done.status, done.progress, done.result) == ("completed", 100, {"uri": uri})
    error = GEMINI.parse_status({"name": name, "done": True, "error": {"code": 3, "message": "bad prompt"}})
    assert (error.status, error.error) == ("failed", {"code": "invalid_argument", "message": "bad prompt"})
    filtered = GEMINI.parse_status({"name": name, "done": True, "response": {"generateVideoResponse": {
        "raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["violates the policies"]}}})
    assert (filtered.status, filtered.error) == ("failed", {"code": "moderation_blocked",
                                                            "message": "violates the policies"})
    with pytest.raises(UpstreamError):
        GEMINI.parse_created({"done": False})


def test_gemini_status_url_is_the_operation_name():
    request = GEMINI.build_status("models/veo-3.0-generate-001/operations/abc", GEMINI_ENDPOINT)
    assert request.url == "https://generativelanguage.googleapis.com/v1beta/models/veo-3.0-generate-001/operations/abc"
    assert request.headers == {"x-goog-api-key": "g-key"}


def test_gemini_key_goes_only_to_the_configured_host():
    good = "https://generativelanguage.googleapis.com/v1beta/files/abc:download?alt=media"
    request = GEMINI.build_content("op", {"uri": good}, "video", GEMINI_ENDPOINT)
    assert (request.url, request.headers) == (good, {"x-goog-api-key": "g-key"})
    for uri in ("https://evil.example.com/v1beta/files/abc:download", "http://generativelanguage.googleapis.com/x",
                "https://generativelanguage.googleapis.com:8443/x", "file:///etc/passwd"):
        with pytest.raises(UpstreamError) as caught:
            GEMINI.build_content("op", {"uri": uri}, "video", GEMINI_ENDPOINT)
        assert caught.value.status == 502 and caught.value.code == "untrusted_download_host"
    refused(lambda: GEMINI.build_content("op", {"uri": good}, "thumbnail", GEMINI_ENDPOINT), "variant")


# ---- the job, its object, its cost -----------------------------------------------------------------


def test_video_cost_per_second_and_per_size():
    sora_pro = {"video_usd_per_second": 0.30, "video_usd_by_size": '{"1792x1024": 0.5}'}
    assert video_cost(8, "1280x720", sora_pro)[:2] == (pytest.approx(2.4), "priced")
    assert video_cost(8, "1792x1024", sora_pro)[:2] == (pytest.approx(4.0), "priced")
    assert video_cost(8, "1280x720", None)[:2] == (None, "unpriced")
    assert video_cost(8, "1280x720", {"video_usd_per_second": None})[:2] == (None, "unpriced")


def job_for(state: VideoJobState, now: float = 1_800_000_000.0) -> dict:
    ctx = RequestContext(request_id="req_1", endpoint="video", started=0.0, received_at=now,
                         caller=Caller("key_1", "user_1", "org_1", "free"), key_level="env",
                         target=Target("openai", "openai", "sora-2", "openai/sora-2"))
    job = video_jobs.new_job(ctx, {"model": "sora-2", "prompt": "fox", "input_reference": {"image_url": "data:x"}},
                             state, 8, "1280x720", now)
    return {**job, "billed": 0}


def test_a_job_row_and_its_openai_object():
    job = job_for(VideoJobState("queued", 0, "video_upstream"))
    assert job["id"].startswith("video_") and job["upstream_job_id"] == "video_upstream"
    assert json.loads(job["request"]) == {"model": "sora-2", "prompt": "fox", "input_reference": "(given)"}
    video = video_jobs.video_object(job)
    assert video == {"id": job["id"], "object": "video", "model": "openai/sora-2", "status": "queued", "progress": 0,
                     "created_at": 1_800_000_000, "completed_at": None, "expires_at": None, "prompt": "fox",
                     "seconds": "8", "size": "1280x720", "remixed_from_video_id": None, "error": None}


def test_usage_rows_of_completed_and_failed_jobs():
    job = job_for(VideoJobState("queued", 0, "up"))
    job.update(video_jobs.state_columns(VideoJobState("completed", 100, "up", seconds=8), 1_800_000_090.0, 8))
    row = video_jobs.usage_row(job, {"video_usd_per_second": 0.1, "price_version": 1})
    assert (row["request_id"], row["endpoint"], row["status"], row["cost_status"]) == ("req_1", "video", "success", "priced")
    assert row["cost_usd"] == pytest.approx(0.8) and json.loads(row["units"]) == {"seconds": 8}
    assert json.loads(row["tags"]) == {"video_id": job["id"]} and row["latency_ms"] == 90_000.0
    failed = job_for(VideoJobState("queued", 0, "up"))
    failed.update(video_jobs.state_columns(VideoJobState("failed", 100, "up", error={"code": "moderation_blocked",
                                                                                     "message": "no"}), 1.8e9, 8))
    row = video_jobs.usage_row(failed, {"video_usd_per_second": 0.1})
    assert (row["status"], row["error_type"], row["cost_usd"], row["cost_status"]) == ("error", "moderation_blocked", 0.0, "none")
    assert json.loads(row["units"]) == {"seconds": 0}
