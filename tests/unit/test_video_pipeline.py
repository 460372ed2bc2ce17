"""The video pipeline on real SQLite (the real migrations) and a scripted upstream: a created job is
stored under the gateway's id, ownership decides who sees it, a final state is never overwritten, the
scheduled poller bills each finished job once, survives one job's failure and does bounded work."""

from __future__ import annotations

import asyncio
import json

import pytest

from gateway import jobs
from gateway.core import Gateway
from gateway.errors import NotFoundError, UpstreamError
from gateway.pipeline.context import Caller
from gateway.ports import Ports
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient, FakeResponse
from gateway.settings import Settings
from gateway.storage import jobs as jobs_sql

NOW = 1_800_000_000.0
ALICE = Caller("key_a1", "user_alice", None, "free")


def answer(payload: dict, status: int = 200) -> FakeResponse:
    return FakeResponse(status=status, body=json.dumps(payload).encode(), headers={"content-type": "application/json"})


@pytest.fixture
def setup(db):
    # OpenAI removed its Videos API (migrations/0017 disables the sora rows); the OpenAI-format adapter stays
    # for servers that still speak it, and these tests drive the pipeline through it.
    asyncio.run(db.query("UPDATE models SET enabled = 1 WHERE provider_id = 'openai' AND modality = 'video'"))
    http = FakeHttpClient()
    ports = Ports(database=db, http=http, background=CollectingBackground(), clock=FakeClock(now=NOW))
    gateway = Gateway(ports, Settings.from_env({"OPENAI_API_KEY": "sk-unit", "OPENAI_BASE_URL": "https://up.test/v1"}))
    return gateway, http, db


def create(gateway, http, caller=ALICE, upstream_id="video_up_1") -> dict:
    http.queue(answer({"id": upstream_id, "object": "video", "status": "queued", "progress": 0, "seconds": "4"}))
    ctx = gateway.new_context("video")
    ctx.caller = caller
    video = asyncio.run(gateway.video.create(ctx, {"model": "openai/sora-2", "prompt": "a fox"}))
    gateway.ports.clock.advance(1.0)  # jobs created one second apart: a stable order
    return video


def usage_rows(db) -> list[dict]:
    return asyncio.run(db.query("SELECT * FROM usage_log WHERE endpoint = 'video'")).rows


def test_created_job_is_stored_under_the_gateways_id(setup):
    gateway, http, db = setup
    video = create(gateway, http)
    assert video["id"].startswith("video_") and video["id"] != "video_up_1"
    assert (video["status"], video["seconds"], video["size"]) == ("queued", "4", "720x1280")
    assert json.loads(http.sent[0]["body"]) == {"model": "sora-2", "prompt": "a fox", "seconds": "4", "size": "720x1280"}
    row = asyncio.run(jobs_sql.get(db, video["id"]))
    assert (row["upstream_job_id"], row["user_id"], row["billed"]) == ("video_up_1", "user_alice", 0)
    assert usage_rows(db) == []  # billed when it finishes, not now


def test_ownership(setup):
    gateway, http, db = setup
    video_id = create(gateway, http)["id"]
    same_user_other_key = Caller("key_a2", "user_alice")
    assert asyncio.run(jobs_sql.get_owned(db, video_id, same_user_other_key)) is not None
    assert asyncio.run(jobs_sql.get_owned(db, video_id, Caller("key_b", "user_bob"))) is None
    assert asyncio.run(jobs_sql.get_owned(db, video_id, Caller("key_a1", None))) is None  # a user's job, not the key's
    ctx = gateway.new_context("video")
    ctx.caller = Caller("key_b", "user_bob")
    with pytest.raises(NotFoundError):
        asyncio.run(gateway.video.retrieve(ctx, video_id))
    assert len(http.sent) == 1  # nobody asked the provider for someone else's job


def test_final_state_is_kept_and_billing_is_claimed_once(setup):
    gateway, http, db = setup
    video_id = create(gateway, http)["id"]
    done = {"status": "completed", "progress": 100, "seconds": 4, "result": None, "error": None,
            "completed_at": "2027-01-15 08:00:00.000", "expires_at": None}
    asyncio.run(jobs_sql.update_state(db, video_id, done, "2027-01-15 08:00:00.000"))
    stale = {**done, "status": "in_progress", "progress": 50, "completed_at": None}
    row = asyncio.run(jobs_sql.update_state(db, video_id, stale, "2027-01-15 08:00:01.000"))
    assert (row["status"], row["progress"]) == ("completed", 100)
    claims = asyncio.run(_claim_twice(db, video_id))
    assert sorted(claims) == [False, True]


async def _claim_twice(db, video_id):
    return await asyncio.gather(jobs_sql.claim_billing(db, video_id), jobs_sql.claim_billing(db, video_id))


def test_the_poller_bills_finished_jobs_once_and_keeps_going_after_a_failure(setup):
    gateway, http, db = setup
    first, second = create(gateway, http, upstream_id="video_up_1")["id"], create(gateway, http, upstream_id="video_up_2")["id"]
    http.queue(answer({"error": {"message": "overloaded", "type": "server_error"}}, status=503))
    http.queue(answer({"id": "video_up_2", "status": "completed", "progress": 100, "seconds": "4"}))
    assert asyncio.run(jobs.run_all(gateway))["poll_video_jobs"] == "ok"
    polled = [s["url"] for s in http.sent[2:]]
    assert polled == ["https://up.test/v1/videos/video_up_1", "https://up.test/v1/videos/video_up_2"]
    rows = usage_rows(db)
    assert [json.loads(r["tags"])["video_id"] for r in rows] == [second]
    assert rows[0]["cost_usd"] == pytest.approx(0.4)
    assert asyncio.run(jobs_sql.get(db, first))["status"] == "queued"
    # The next run asks only about the unfinished one; the billed one costs no call and no second row.
    http.queue(answer({"id": "video_up_1", "status": "failed", "error": {"code": "moderation_blocked", "message": "no"}}))
    asyncio.run(jobs.run_all(gateway))
    assert [s["url"] for s in http.sent[4:]] == ["https://up.test/v1/videos/video_up_1"]
    statuses = sorted((json.loads(r["tags"])["video_id"], r["status"], r["cost_usd"]) for r in usage_rows(db))
    assert statuses == sorted([(second, "success", pytest.approx(0.4)), (first, "error", 0.0)])


def test_the_poller_does_bounded_work_longest_unasked_first(setup):
    gateway, http, db = setup
    ids = [create(gateway, http, upstream_id=f"video_up_{i}")["id"] for i in range(3)]
    asyncio.run(db.query("UPDATE async_jobs SET polled_at = '2020-01-01 00:00:00.000' WHERE id = ?", (ids[2],)))
    http.queue(answer({"id": "video_up_2", "status": "in_progress", "progress": 10}))
    assert asyncio.run(gateway.video.poll_due(1)) == 1
    assert [s["url"] for s in http.sent[3:]] == ["https://up.test/v1/videos/video_up_2"]


def test_a_job_the_provider_no_longer_knows_is_failed_not_polled_forever(setup):
    gateway, http, db = setup
    video_id = create(gateway, http)["id"]
    http.queue(answer({"error": {"message": "Video not found", "type": "invalid_request_error"}}, status=404))
    ctx = gateway.new_context("video")
    ctx.caller = ALICE
    video = asyncio.run(gateway.video.retrieve(ctx, video_id))
    assert (video["status"], video["error"]["code"]) == ("failed", "upstream_job_not_found")
    (row,) = usage_rows(db)
    assert (row["status"], row["cost_usd"]) == ("error", 0.0)
    assert asyncio.run(jobs_sql.due(db, 10)) == []  # nothing left for the poller


def test_content_the_provider_no_longer_has_is_404_expired(setup):
    gateway, http, db = setup
    video_id = create(gateway, http)["id"]
    http.queue(answer({"id": "video_up_1", "status": "completed", "progress": 100, "seconds": "4"}))
    http.queue(answer({"error": {"message": "Video content not found", "type": "invalid_request_error"}}, status=404))
    ctx = gateway.new_context("video")
    ctx.caller = ALICE
    with pytest.raises(NotFoundError) as caught:
        asyncio.run(gateway.video.content(ctx, video_id, "video"))
    assert caught.value.code == "video_content_expired"
    assert http.sent[-1]["url"] == "https://up.test/v1/videos/video_up_1/content?variant=video"


@pytest.fixture
def together(db):
    http = FakeHttpClient()
    ports = Ports(database=db, http=http, background=CollectingBackground(), clock=FakeClock(now=NOW))
    gateway = Gateway(ports, Settings.from_env({"TOGETHER_API_KEY": "tg-unit"}))
    http.queue(answer({"id": "019a", "object": "video", "status": "queued"}))
    ctx = gateway.new_context("video")
    ctx.caller = ALICE
    video = asyncio.run(gateway.video.create(ctx, {"model": "together/google/veo-3.0", "prompt": "waves"}))
    http.queue(answer({"id": "019a", "status": "completed", "seconds": "8", "outputs": {
        "cost": 1.5, "video_url": "https://api.together.ai/shrt/Dwla"}}))
    return gateway, http, db, video["id"]


def test_a_download_follows_the_short_link_without_any_credentials(together):
    gateway, http, db, video_id = together
    http.queue(FakeResponse(status=302, body=b"", headers={"location": "https://cdn.example/signed.mp4?sig=1"}))
    http.queue(FakeResponse(status=200, body=b"MP4", headers={"content-type": "video/mp4"}))
    ctx = gateway.new_context("video")
    ctx.caller = ALICE
    result = asyncio.run(gateway.video.content(ctx, video_id, "video"))

    async def drain():
        return b"".join([chunk async for chunk in result.chunks])

    assert asyncio.run(drain()) == b"MP4"
    assert [(s["url"], s["headers"]) for s in http.sent[-2:]] == [
        ("https://api.together.ai/shrt/Dwla", {}), ("https://cdn.example/signed.mp4?sig=1", {})]
    assert http.sent[0]["url"] == "https://api.together.xyz/v2/videos"
    assert http.sent[0]["headers"]["authorization"] == "Bearer tg-unit"
    (row,) = usage_rows(db)
    assert (row["cost_usd"], row["cost_status"]) == (1.5, "priced")  # Together's reported cost


@pytest.mark.parametrize("location", ["http://cdn.example/v.mp4", "file:///etc/passwd"])
def test_a_download_redirect_that_downgrades_or_leaves_http_is_refused(together, location):
    gateway, http, db, video_id = together
    http.queue(FakeResponse(status=302, body=b"", headers={"location": location}))
    ctx = gateway.new_context("video")
    ctx.caller = ALICE
    with pytest.raises(UpstreamError) as caught:
        asyncio.run(gateway.video.content(ctx, video_id, "video"))
    assert caught.value.code == "untrusted_download_host"
    assert http.sent[-1]["url"] == "https://api.together.ai/shrt/Dwla"  # the redirect target was not fetched


def test_download_redirects_are_bounded(together):
    gateway, http, db, video_id = together
    for n in range(4):
        http.queue(FakeResponse(status=302, body=b"", headers={"location": f"https://cdn.example/{n}"}))
    ctx = gateway.new_context("video")
    ctx.caller = ALICE
    with pytest.raises(UpstreamError) as caught:
        asyncio.run(gateway.video.content(ctx, video_id, "video"))
    assert caught.value.code == "untrusted_download_host" and len(http.sent) == 2 + 4
