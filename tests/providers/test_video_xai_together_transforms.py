"""Video transforms of xAI (grok-imagine-video) and Together AI (v2 /videos): request mapping, the
seconds/size rules, status mapping (with the cost each reports), where a file may be fetched from (never
with the key), and provider-reported cost in the job's usage row and per-video catalog prices. Plain
Python (these also run inside Pyodide)."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline import video_jobs
from gateway.pipeline.context import Caller, RequestContext, Target
from gateway.pipeline.cost import video_cost
from gateway.providers.base import Endpoint, VideoJobState
from gateway.providers.together.video import VIDEO as TOGETHER, v2_url
from gateway.providers.xai.video import VIDEO as XAI

XAI_ENDPOINT = Endpoint(base_url="https://api.x.ai/v1", api_key="xai-key")
TOGETHER_ENDPOINT = Endpoint(base_url="https://api.together.xyz/v1/", api_key="tg-key")


def refused(call, param: str) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        call()
    assert caught.value.category is ErrorCategory.INVALID_REQUEST and caught.value.status == 400
    assert caught.value.param == param
    return caught.value


def untrusted(call) -> None:
    with pytest.raises(UpstreamError) as caught:
        call()
    assert caught.value.status == 502 and caught.value.code == "untrusted_download_host"


# ---- xAI -------------------------------------------------------------------------------------------


def test_xai_create_maps_size_to_aspect_ratio_and_resolution():
    request = XAI.build_create({"model": "xai/grok-imagine-video", "prompt": "a fox", "seconds": "12",
                                "size": "720x1280"}, "grok-imagine-video", XAI_ENDPOINT)
    assert (request.method, request.url) == ("POST", "https://api.x.ai/v1/videos/generations")
    assert request.headers["authorization"] == "Bearer xai-key"
    assert json.loads(request.body) == {"model": "grok-imagine-video", "prompt": "a fox", "duration": 12,
                                        "aspect_ratio": "9:16", "resolution": "720p"}


def test_xai_defaults_and_image_reference():
    assert XAI.job_shape({"prompt": "x"}, "grok-imagine-video") == (6, "854x480")
    body = json.loads(XAI.build_create({"prompt": "x", "size": "480x480", "input_reference": {
        "image_url": "https://example.com/cat.png"}}, "grok-imagine-video", XAI_ENDPOINT).body)
    assert (body["aspect_ratio"], body["resolution"], body["duration"]) == ("1:1", "480p", 6)
    assert body["image"] == {"url": "https://example.com/cat.png"}


@pytest.mark.parametrize(("body", "param"), [
    ({"seconds": "16"}, "seconds"), ({"seconds": 0}, "seconds"), ({"seconds": "abc"}, "seconds"),
    ({"size": "1920x1080"}, "size"), ({"size": "1024x1792"}, "size"),
    ({"input_reference": {"file_id": "file_1"}}, "input_reference"),
])
def test_xai_refuses_what_it_cannot_make(body, param):
    refused(lambda: XAI.build_create({"prompt": "x", **body}, "grok-imagine-video", XAI_ENDPOINT), param)


def test_xai_status_mapping_and_reported_cost():
    assert XAI.parse_created({"request_id": "req-1"}) == VideoJobState("queued", 0, "req-1")
    with pytest.raises(UpstreamError):
        XAI.parse_created({})
    assert XAI.parse_status({"status": "pending"}).status == "in_progress"
    assert XAI.parse_status({"status": "pending", "progress": 40}).progress == 40
    done = XAI.parse_status({"status": "done", "video": {"url": "https://vidgen.x.ai/b/v.mp4", "duration": 8,
                                                         "respect_moderation": True},
                             "usage": {"cost_in_usd_ticks": 500_000_000}})
    assert (done.status, done.seconds, done.result) == ("completed", 8, {"url": "https://vidgen.x.ai/b/v.mp4"})
    assert done.cost_usd == pytest.approx(0.05)
    blocked = XAI.parse_status({"status": "done", "video": {"respect_moderation": False}})
    assert (blocked.status, blocked.error["code"]) == ("failed", "moderation_blocked")
    assert XAI.parse_status({"status": "expired"}).error["code"] == "expired"
    failed = XAI.parse_status({"status": "failed", "error": {"code": "invalid_prompt", "message": "no"}})
    assert failed.error == {"code": "invalid_prompt", "message": "no"}


def test_xai_status_request():
    request = XAI.build_status("d97415a1-5796", XAI_ENDPOINT)
    assert (request.method, request.url, request.headers) == (
        "GET", "https://api.x.ai/v1/videos/d97415a1-5796", {"authorization": "Bearer xai-key"})


def test_xai_file_is_fetched_without_the_key_and_only_from_xai():
    request = XAI.build_content("r", {"url": "https://vidgen.x.ai/bucket/v.mp4"}, "video", XAI_ENDPOINT)
    assert (request.method, request.url, dict(request.headers)) == ("GET", "https://vidgen.x.ai/bucket/v.mp4", {})
    untrusted(lambda: XAI.build_content("r", {"url": "https://evil.example/v.mp4"}, "video", XAI_ENDPOINT))
    untrusted(lambda: XAI.build_content("r", {"url": "https://x.ai.evil.example/v.mp4"}, "video", XAI_ENDPOINT))
    untrusted(lambda: XAI.build_content("r", {"url": "http://vidgen.x.ai/v.mp4"}, "video", XAI_ENDPOINT))
    untrusted(lambda: XAI.build_content("r", {"url": "file:///etc/passwd"}, "video", XAI_ENDPOINT))
    untrusted(lambda: XAI.build_content("r", None, "video", XAI_ENDPOINT))
    refused(lambda: XAI.build_content("r", {"url": "https://vidgen.x.ai/v.mp4"}, "thumbnail", XAI_ENDPOINT), "variant")


# ---- Together --------------------------------------------------------------------------------------


def test_together_v2_url_is_derived_from_the_v1_base():
    assert v2_url("https://api.together.xyz/v1") == "https://api.together.xyz/v2"
    assert v2_url("http://127.0.0.1:9000/together/v1/") == "http://127.0.0.1:9000/together/v2"
    assert v2_url("https://proxy.example/together") == "https://proxy.example/together/v2"


def test_together_create_maps_size_seconds_and_passed_fields():
    request = TOGETHER.build_create({"model": "together/minimax/hailuo-02", "prompt": "a city", "seconds": 6,
                                     "size": "1920x1080", "fps": 30, "seed": 42, "unknown": 1,
                                     "input_reference": {"image_url": "https://example.com/f.jpg"}},
                                    "minimax/hailuo-02", TOGETHER_ENDPOINT)
    assert (request.method, request.url) == ("POST", "https://api.together.xyz/v2/videos")
    assert request.headers["authorization"] == "Bearer tg-key"
    assert json.loads(request.body) == {
        "model": "minimax/hailuo-02", "prompt": "a city", "width": 1920, "height": 1080, "seconds": "6",
        "fps": 30, "seed": 42, "frame_images": [{"input_image": "https://example.com/f.jpg", "frame": "first"}]}


def test_together_model_defaults_and_limits():
    assert TOGETHER.job_shape({"prompt": "x"}, "google/veo-3.0") == (8, "1280x720")
    assert TOGETHER.job_shape({"prompt": "x"}, "kwaivgI/kling-2.1-master") == (5, "1920x1080")
    assert TOGETHER.job_shape({"prompt": "x"}, "minimax/hailuo-02") == (10, "1366x768")
    assert TOGETHER.job_shape({"prompt": "x", "seconds": "7", "size": "640x360"}, "pixverse/pixverse-v5") == (7, "640x360")
    refused(lambda: TOGETHER.job_shape({"prompt": "x", "seconds": "4"}, "google/veo-3.0"), "seconds")
    refused(lambda: TOGETHER.job_shape({"prompt": "x", "size": "1366x768"}, "google/veo-3.0"), "size")
    refused(lambda: TOGETHER.build_create({"prompt": "x", "input_reference": {"file_id": "f"}}, "google/veo-3.0",
                                          TOGETHER_ENDPOINT), "input_reference")


def test_together_status_mapping_and_reported_cost():
    created = TOGETHER.parse_created({"id": "019a", "object": "video", "status": "queued"})
    assert (created.status, created.upstream_id) == ("queued", "019a")
    assert TOGETHER.parse_status({"id": "019a", "status": "in_progress"}).status == "in_progress"
    done = TOGETHER.parse_status({"id": "019a", "status": "completed", "seconds": "5", "size": "1366x768",
                                  "outputs": {"cost": 0.28, "video_url": "https://api.together.ai/shrt/Dwla"}})
    assert (done.status, done.seconds, done.cost_usd, done.result) == (
        "completed", 5, 0.28, {"url": "https://api.together.ai/shrt/Dwla"})
    failed = TOGETHER.parse_status({"id": "019a", "status": "failed", "error": {"code": "bad_input", "message": "m"}})
    assert failed.error == {"code": "bad_input", "message": "m"}
    listed = TOGETHER.parse_status({"id": "019a", "status": "failed", "info": {"errors": [{"message": "boom"}]}})
    assert listed.error == {"code": "video_generation_failed", "message": "boom"}
    assert TOGETHER.parse_status({"id": "019a", "status": "cancelled"}).error["code"] == "cancelled"


def test_together_file_is_fetched_without_the_key_from_together_hosts_only():
    for url in ("https://api.together.ai/shrt/Dwla", "https://api.together.xyz/files/v.mp4"):
        request = TOGETHER.build_content("019a", {"url": url}, "video", TOGETHER_ENDPOINT)
        assert (request.url, dict(request.headers)) == (url, {})
    untrusted(lambda: TOGETHER.build_content("019a", {"url": "https://169.254.169.254/x"}, "video", TOGETHER_ENDPOINT))
    refused(lambda: TOGETHER.build_content("019a", {"url": "https://api.together.ai/s"}, "spritesheet",
                                           TOGETHER_ENDPOINT), "variant")


# ---- billing ---------------------------------------------------------------------------------------


def job_for(state: VideoJobState, now: float = 1_800_000_000.0) -> dict:
    ctx = RequestContext(request_id="req_1", endpoint="video", started=0.0, received_at=now,
                         caller=Caller("key_1", "user_1", "org_1", "free"), key_level="env",
                         target=Target("together", "together", "minimax/hailuo-02", "together/minimax/hailuo-02"))
    return {**video_jobs.new_job(ctx, {"model": "together/minimax/hailuo-02", "prompt": "x"}, state, 10,
                                 "1366x768", now), "billed": 0}


def test_a_reported_cost_bills_the_job_else_the_per_video_price():
    catalog = {"video_usd_per_video": 0.56, "video_usd_per_second": None}
    job = job_for(VideoJobState("queued", 0, "019a"))
    job.update(video_jobs.state_columns(VideoJobState("completed", 100, "019a", seconds=10, cost_usd=0.4321),
                                        1_800_000_060.0, 10))
    row = video_jobs.usage_row(job, catalog)
    assert (row["cost_usd"], row["cost_status"]) == (0.4321, "priced")
    unreported = job_for(VideoJobState("queued", 0, "019a"))
    unreported.update(video_jobs.state_columns(VideoJobState("completed", 100, "019a", seconds=10), 1.8e9, 10))
    assert (video_jobs.usage_row(unreported, catalog)["cost_usd"], video_jobs.usage_row(unreported, catalog)["cost_status"]) == (
        0.56, "priced")
    assert video_jobs.usage_row(unreported, None)["cost_status"] == "unpriced"


def test_video_cost_per_video_and_grok_720p_rate():
    assert video_cost(10, "1366x768", {"video_usd_per_video": 3.2})[:2] == (3.2, "priced")
    grok = {"video_usd_per_second": 0.05, "video_usd_by_size": '{"1280x720": 0.07}'}
    assert video_cost(6, "854x480", grok)[:2] == (pytest.approx(0.30), "priced")
    assert video_cost(6, "1280x720", grok)[:2] == (pytest.approx(0.42), "priced")
