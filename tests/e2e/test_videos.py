"""/v1/videos end to end: the official OpenAI SDK (and raw HTTP) against the gateway, OpenAI (Sora),
Gemini (Veo), xAI (grok-imagine-video) and Together AI on the emulator. Job lifecycle, content bytes,
billing once (also under concurrent polls and by the scheduled poller), persistence across a restart,
ownership (404 for other owners), failed jobs, validation and upstream errors, keyless file downloads.
Expectations come from the emulator's documented rules (scripts/emulator/video_wire.py, including the
cost xAI and Together report) and the catalog prices (migrations/0011_video_jobs.sql,
0013_more_video_models.sql)."""

from __future__ import annotations

import asyncio
import base64
import json
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from gateway import jobs
from scripts.emulator.video_wire import reported_cost_usd, video_bytes
from scripts.run_local import build_local
from tests.conftest import GatewayServer, gateway_config, provider_key

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks the Sora API deprecated

PRICES = {"openai/sora-2": 0.10, "openai/sora-2-pro": 0.30, "gemini/veo-3.0-generate-001": 0.40,
          "gemini/veo-3.0-fast-generate-001": 0.15, "gemini/veo-2.0-generate-001": 0.35}


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    running = GatewayServer(gateway_config(emulator.base_url), tmp_path_factory.mktemp("video") / "gateway.sqlite3").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def key(server) -> str:
    return server.create_key(name="video")


@pytest.fixture(scope="module")
def client(server, key) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)


def prompt(text: str, polls: int = 1, fault: str | None = None) -> str:
    knobs = f"[[emulator:polls={polls}]]" + (f" [[emulator:fault={fault}]]" if fault else "")
    return f"{text} {uuid.uuid4().hex[:8]} {knobs}"


def db_rows(server, sql: str, *params) -> list[dict]:
    with sqlite3.connect(server.db_path) as db:
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(sql, params).fetchall()]


def job_usage_rows(server, video_id: str) -> list[dict]:
    return db_rows(server, "SELECT * FROM usage_log WHERE endpoint = 'video' AND json_extract(tags, '$.video_id') = ?",
                   video_id)


def sent(emulator, text: str) -> dict:
    for request in reversed(httpx.get(emulator.base_url + "/_emulator/requests").json()):
        if text in json.dumps(request["body"]):
            return request
    raise AssertionError(f"nothing carrying {text!r} reached the emulator")


def call(server, key, method: str, path: str, headers: dict | None = None, **kwargs) -> httpx.Response:
    return httpx.request(method, server.base_url + path, headers={"authorization": f"Bearer {key}", **(headers or {})},
                         timeout=10, **kwargs)


# ---- lifecycle -------------------------------------------------------------------------------------


def test_sora_lifecycle_with_the_sdk(client, server, emulator):
    text = prompt("A fox in the snow", polls=3)
    raw = client.videos.with_raw_response.create(model="openai/sora-2", prompt=text, seconds="8", size="1280x720")
    video = raw.parse()
    assert video.id.startswith("video_") and not video.id.startswith("video_emu_")  # the gateway's own id
    assert (video.status, video.progress, video.model, video.seconds, video.size) == (
        "queued", 0, "openai/sora-2", "8", "1280x720")
    upstream = sent(emulator, text)
    assert upstream["path"] == "/v1/videos"
    assert upstream["headers"]["Authorization"] == "Bearer sk-test-openai-key"
    assert upstream["body"] == {"model": "sora-2", "prompt": text, "seconds": "8", "size": "1280x720"}
    # K = 3: polls 1 and 2 are in progress (33, 66), the third completes.
    assert [(v.status, v.progress) for v in (client.videos.retrieve(video.id) for _ in range(2))] == [
        ("in_progress", 33), ("in_progress", 66)]
    done = client.videos.retrieve(video.id)
    assert (done.status, done.progress) == ("completed", 100)
    assert done.completed_at is not None and done.expires_at is not None and done.error is None
    content = client.videos.download_content(video.id)
    assert content.content == video_bytes("video", "sora-2", 8, text)
    thumbnail = call(server, client.api_key, "GET", f"/v1/videos/{video.id}/content", params={"variant": "thumbnail"})
    assert thumbnail.headers["content-type"] == "image/webp"
    assert thumbnail.content == video_bytes("thumbnail", "sora-2", 8, text)
    rows = job_usage_rows(server, video.id)
    assert len(rows) == 1
    row = rows[0]
    assert row["request_id"] == raw.headers["x-request-id"]  # the create call's id
    assert (row["status"], row["provider_id"], row["model_id"], row["cost_status"]) == (
        "success", "openai", "openai/sora-2", "priced")
    assert json.loads(row["units"]) == {"seconds": 8}
    assert row["cost_usd"] == pytest.approx(8 * 0.10)


def test_veo_lifecycle_and_mapping(client, server, emulator):
    text = prompt("Waves on a beach", polls=2)
    video = client.videos.create(model="gemini/veo-3.0-fast-generate-001", prompt=text, size="720x1280")
    assert (video.status, video.seconds, video.size) == ("queued", "8", "720x1280")  # Veo's default: 8 s
    upstream = sent(emulator, text)
    assert upstream["path"] == "/gemini/v1beta/models/veo-3.0-fast-generate-001:predictLongRunning"
    assert upstream["headers"]["x-goog-api-key"] == provider_key("GEMINI")
    assert upstream["body"] == {"instances": [{"prompt": text}],
                                "parameters": {"aspectRatio": "9:16", "durationSeconds": 8, "resolution": "720p"}}
    assert client.videos.retrieve(video.id).status == "in_progress"
    assert client.videos.retrieve(video.id).status == "completed"
    assert client.videos.download_content(video.id).content == video_bytes("video", "veo-3.0-fast-generate-001", 8, text)
    download = httpx.get(emulator.base_url + "/_emulator/requests").json()[-1]
    assert download["path"].startswith("/gemini/v1beta/files/") and download["query"] == "alt=media"
    assert download["headers"]["x-goog-api-key"] == provider_key("GEMINI")
    (row,) = job_usage_rows(server, video.id)
    assert json.loads(row["units"]) == {"seconds": 8}
    assert row["cost_usd"] == pytest.approx(8 * 0.15)


PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2


def file_downloads(emulator, prefixes: tuple[str, ...]) -> list[dict]:
    return [r for r in httpx.get(emulator.base_url + "/_emulator/requests").json() if r["path"].startswith(prefixes)]


def test_grok_lifecycle_keyless_download_and_reported_cost(client, server, emulator):
    text = prompt("A comet over a city", polls=2)
    raw = client.videos.with_raw_response.create(model="xai/grok-imagine-video", prompt=text, seconds="9",
                                                 size="1280x720")
    video = raw.parse()
    assert (video.status, video.seconds, video.size, video.model) == ("queued", "9", "1280x720", "xai/grok-imagine-video")
    upstream = sent(emulator, text)
    assert upstream["path"] == "/xai/v1/videos/generations"
    assert upstream["headers"]["Authorization"] == f"Bearer {provider_key('XAI')}"
    assert upstream["body"] == {"model": "grok-imagine-video", "prompt": text, "duration": 9,
                                "aspect_ratio": "16:9", "resolution": "720p"}
    assert [(v.status, v.progress) for v in (client.videos.retrieve(video.id) for _ in range(2))] == [
        ("in_progress", 50), ("completed", 100)]
    before = len(file_downloads(emulator, ("/xai-cdn/",)))
    assert client.videos.download_content(video.id).content == video_bytes("video", "grok-imagine-video", 9, text)
    (download,) = file_downloads(emulator, ("/xai-cdn/",))[before:]
    assert "Authorization" not in download["headers"]  # the CDN gets no key
    (row,) = job_usage_rows(server, video.id)
    assert (row["request_id"], row["status"], row["cost_status"]) == (raw.headers["x-request-id"], "success", "priced")
    assert json.loads(row["units"]) == {"seconds": 9}
    # Billed what xAI reported (the emulator's rule), not the catalog's 9 × $0.07.
    assert row["cost_usd"] == pytest.approx(reported_cost_usd(9))
    assert row["cost_usd"] != pytest.approx(9 * 0.07)


def test_grok_image_reference_from_a_file_upload(client, emulator):
    text = prompt("The cat starts to dance")
    client.videos.create(model="xai/grok-imagine-video", prompt=text, input_reference=("cat.png", PNG_BYTES, "image/png"))
    image = sent(emulator, text)["body"]["image"]
    assert image == {"url": "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()}


def test_together_lifecycle_redirected_keyless_download_and_reported_cost(client, server, emulator):
    text = prompt("A neon street in the rain", polls=3)
    raw = client.videos.with_raw_response.create(model="together/minimax/hailuo-02", prompt=text, seconds="6",
                                                 size="1920x1080")
    video = raw.parse()
    assert (video.status, video.seconds, video.size) == ("queued", "6", "1920x1080")
    upstream = sent(emulator, text)
    assert upstream["path"] == "/together/v2/videos"  # the v2 API beside the configured /together/v1
    assert upstream["headers"]["Authorization"] == f"Bearer {provider_key('TOGETHER')}"
    assert upstream["body"] == {"model": "minimax/hailuo-02", "prompt": text, "width": 1920, "height": 1080,
                                "seconds": "6"}
    assert [client.videos.retrieve(video.id).status for _ in range(3)] == ["in_progress", "in_progress", "completed"]
    before = len(file_downloads(emulator, ("/together/shrt/", "/together/files/")))
    assert client.videos.download_content(video.id).content == video_bytes("video", "minimax/hailuo-02", 6, text)
    link, file = file_downloads(emulator, ("/together/shrt/", "/together/files/"))[before:]
    assert link["path"].startswith("/together/shrt/") and file["path"].startswith("/together/files/")
    assert "Authorization" not in link["headers"] and "Authorization" not in file["headers"]
    (row,) = job_usage_rows(server, video.id)
    assert (row["status"], row["cost_status"], row["provider_id"]) == ("success", "priced", "together")
    assert json.loads(row["units"]) == {"seconds": 6}
    assert row["cost_usd"] == pytest.approx(reported_cost_usd(6))  # outputs.cost, not the catalog's $0.56


def test_together_defaults_come_from_the_model(client):
    video = client.videos.create(model="together/kwaivgI/kling-2.1-master", prompt=prompt("A horse"))
    assert (video.seconds, video.size) == ("5", "1920x1080")


def test_veo_image_reference_from_a_file_upload(client, emulator):
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    text = prompt("Animate this")
    client.videos.create(model="gemini/veo-2.0-generate-001", prompt=text, seconds="5",
                         input_reference=("frame.png", image, "image/png"))
    body = sent(emulator, text)["body"]
    assert body["instances"][0]["image"] == {"bytesBase64Encoded": base64.b64encode(image).decode(), "mimeType": "image/png"}
    assert body["parameters"] == {"aspectRatio": "16:9", "durationSeconds": 5}  # Veo 2 takes no resolution


def test_json_body_works_as_well_as_multipart(server, key, emulator):
    text = prompt("Plain JSON")
    response = call(server, key, "POST", "/v1/videos", json={"model": "openai/sora-2-pro", "prompt": text,
                                                             "seconds": 12, "size": "1792x1024"})
    assert response.status_code == 200, response.text
    assert (response.json()["seconds"], response.json()["size"]) == ("12", "1792x1024")
    assert sent(emulator, text)["body"]["seconds"] == "12"  # OpenAI takes seconds as a string


def test_the_jobs_row_carries_the_creating_requests_tags(client, server):
    """x-gateway-tags on the create call: kept with the job, on its usage row (with video_id) and in usage_tags."""
    video = client.videos.create(model="gemini/veo-3.0-fast-generate-001", prompt=prompt("Tagged"), seconds="8",
                                 extra_headers={"x-gateway-tags": "app=trailer, feature=teaser"})
    assert client.videos.retrieve(video.id).status == "completed"
    (row,) = job_usage_rows(server, video.id)
    assert json.loads(row["tags"]) == {"app": "trailer", "feature": "teaser", "video_id": video.id}
    assert {(r["tag_key"], r["tag_value"]) for r in db_rows(
        server, "SELECT tag_key, tag_value FROM usage_tags WHERE request_id = ?", row["request_id"])} == {
        ("app", "trailer"), ("feature", "teaser"), ("video_id", video.id)}
    assert row["cost_usd"] == pytest.approx(8 * PRICES["gemini/veo-3.0-fast-generate-001"])


def test_bad_tags_on_a_video_create_start_no_job(server, key):
    response = call(server, key, "POST", "/v1/videos", headers={"x-gateway-tags": "no pairs here"},
                    json={"model": "gemini/veo-3.0-fast-generate-001", "prompt": prompt("Untagged")})
    assert response.status_code == 400 and response.json()["error"]["param"] == "x-gateway-tags"
    assert db_rows(server, "SELECT COUNT(*) AS n FROM usage_log WHERE request_id = ?",
                   response.headers["x-request-id"]) == [{"n": 0}]


def test_sora_pro_hd_size_is_billed_at_its_own_rate(client, server):
    video = client.videos.create(model="openai/sora-2-pro", prompt=prompt("HD"), seconds="4", size="1024x1792")
    assert client.videos.retrieve(video.id).status == "completed"
    (row,) = job_usage_rows(server, video.id)
    assert row["cost_usd"] == pytest.approx(4 * 0.50)


# ---- billing once ----------------------------------------------------------------------------------


def test_concurrent_polls_bill_exactly_once(client, server, key):
    video = client.videos.create(model="openai/sora-2", prompt=prompt("Busy", polls=4), seconds="4")
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda _: call(server, key, "GET", f"/v1/videos/{video.id}"), range(24)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    assert {a.json()["status"] for a in answers} >= {"completed"}
    assert client.videos.retrieve(video.id).status == "completed"
    rows = job_usage_rows(server, video.id)
    assert len(rows) == 1 and rows[0]["cost_usd"] == pytest.approx(0.4)
    assert db_rows(server, "SELECT billed FROM async_jobs WHERE id = ?", video.id) == [{"billed": 1}]


def test_the_scheduled_poller_bills_a_job_nobody_polls(client, server, emulator):
    video = client.videos.create(model="gemini/veo-3.0-generate-001", prompt=prompt("Unwatched", polls=1))
    assert job_usage_rows(server, video.id) == []
    # Another isolate's cron run on the same database (the Worker's scheduled handler runs the registry).
    app, ports = build_local(gateway_config(emulator.base_url), server.db_path)

    async def run() -> dict:
        try:
            return await jobs.run_all(app.gateway)
        finally:
            await ports.http.close()

    assert asyncio.run(run())["poll_video_jobs"] == "ok"
    ports.database.close()
    assert db_rows(server, "SELECT status, billed FROM async_jobs WHERE id = ?", video.id) == [
        {"status": "completed", "billed": 1}]
    (row,) = job_usage_rows(server, video.id)
    assert row["cost_usd"] == pytest.approx(8 * 0.40)
    assert client.videos.retrieve(video.id).status == "completed"  # no provider call, no second row
    assert len(job_usage_rows(server, video.id)) == 1


def test_jobs_survive_a_gateway_restart(emulator, tmp_path):
    db_path = tmp_path / "gateway.sqlite3"
    first = GatewayServer(gateway_config(emulator.base_url), db_path).start()
    try:
        key = first.create_key(name="restart")
        client = openai.OpenAI(base_url=first.base_url + "/v1", api_key=key, max_retries=0)
        video = client.videos.create(model="openai/sora-2", prompt=prompt("Before the restart", polls=2))
        assert client.videos.retrieve(video.id).status == "in_progress"
    finally:
        first.stop()
    second = GatewayServer(gateway_config(emulator.base_url), db_path).start()
    try:
        client = openai.OpenAI(base_url=second.base_url + "/v1", api_key=key, max_retries=0)
        assert client.videos.retrieve(video.id).status == "completed"
        assert len(job_usage_rows(second, video.id)) == 1
    finally:
        second.stop()


# ---- ownership -------------------------------------------------------------------------------------


def test_only_the_owner_sees_a_job(server, client):
    with sqlite3.connect(server.db_path) as db:
        db.executemany("INSERT OR IGNORE INTO users (id, email) VALUES (?, ?)",
                       [("u_video_a", "a@example.com"), ("u_video_b", "b@example.com")])
    key_a1, key_a2 = server.create_key(user_id="u_video_a"), server.create_key(user_id="u_video_a")
    key_b = server.create_key(user_id="u_video_b")
    created = call(server, key_a1, "POST", "/v1/videos", json={"model": "openai/sora-2", "prompt": prompt("Mine")})
    video_id = created.json()["id"]
    assert call(server, key_a2, "GET", f"/v1/videos/{video_id}").status_code == 200  # same user, other key
    for path in (f"/v1/videos/{video_id}", f"/v1/videos/{video_id}/content"):
        other = call(server, key_b, "GET", path)
        assert other.status_code == 404, other.text
        assert other.json()["error"]["code"] == "video_not_found"
    assert call(server, key_b, "DELETE", f"/v1/videos/{video_id}").status_code == 404
    assert call(server, client.api_key, "GET", f"/v1/videos/{video_id}").status_code == 404  # a key with no user
    assert video_id not in [v["id"] for v in call(server, key_b, "GET", "/v1/videos").json()["data"]]


def test_list_newest_first_with_pagination(server):
    key = server.create_key(name="lister")
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
    ids = [client.videos.create(model="openai/sora-2", prompt=prompt(f"clip {i}")).id for i in range(3)]
    page = client.videos.list(limit=2)
    assert [v.id for v in page.data] == [ids[2], ids[1]] and page.has_more
    assert [v.id for v in client.videos.list(limit=2)] == ids[::-1]  # the SDK follows `last_id`
    assert [v["id"] for v in call(server, key, "GET", "/v1/videos", params={"order": "asc"}).json()["data"]] == ids


def test_delete_a_finished_job(server):
    key = server.create_key(name="deleter")
    client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
    video = client.videos.create(model="openai/sora-2", prompt=prompt("Short-lived", polls=2))
    busy = call(server, key, "DELETE", f"/v1/videos/{video.id}")  # the first poll: still in progress
    assert busy.status_code == 400 and busy.json()["error"]["code"] == "video_not_finished"
    deleted = client.videos.delete(video.id)  # the second poll completes it, then it goes
    assert (deleted.id, deleted.deleted, deleted.object) == (video.id, True, "video.deleted")
    assert len(job_usage_rows(server, video.id)) == 1  # billed before it was forgotten
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve(video.id)


# ---- failures --------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["openai/sora-2", "gemini/veo-3.0-generate-001", "xai/grok-imagine-video",
                                   "together/google/veo-3.0"])
def test_a_failed_job_is_reported_and_not_billed(client, server, model):
    video = client.videos.create(model=model, prompt=prompt("Forbidden", fault="video-failed"))
    failed = client.videos.retrieve(video.id)
    assert failed.status == "failed"
    assert failed.error.code == "moderation_blocked" and failed.error.message
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.download_content(video.id)
    assert caught.value.body["code"] == "video_not_ready"
    (row,) = job_usage_rows(server, video.id)
    assert (row["status"], row["error_type"], row["cost_usd"], row["cost_status"]) == (
        "error", "moderation_blocked", 0.0, "none")
    assert row["cost_note"] == "failed: only success is billed"


@pytest.mark.parametrize("body, param", [
    ({"model": "openai/sora-2"}, "prompt"),
    ({"model": "openai/sora-2", "prompt": ""}, "prompt"),
    ({"prompt": "hi"}, "model"),
    ({"model": "openai/sora-2", "prompt": "hi", "seconds": "abc"}, "seconds"),
    ({"model": "openai/sora-2", "prompt": "hi", "seconds": "5"}, "seconds"),
    ({"model": "openai/sora-2", "prompt": "hi", "size": "big"}, "size"),
    ({"model": "openai/sora-2", "prompt": "hi", "size": "1792x1024"}, "size"),  # a -pro size
    ({"model": "gemini/veo-3.0-generate-001", "prompt": "hi", "seconds": "4"}, "seconds"),
    ({"model": "gemini/veo-2.0-generate-001", "prompt": "hi", "size": "1920x1080"}, "size"),
    ({"model": "gemini/veo-3.0-generate-001", "prompt": "hi", "size": "1024x1792"}, "size"),
    ({"model": "gemini/veo-3.0-generate-001", "prompt": "hi", "input_reference": {"image_url": "https://x.test/a.png"}},
     "input_reference"),
    ({"model": "openai/gpt-4o-mini", "prompt": "hi"}, "model"),
    ({"model": "xai/grok-imagine-video", "prompt": "hi", "seconds": "16"}, "seconds"),
    ({"model": "xai/grok-imagine-video", "prompt": "hi", "size": "1920x1080"}, "size"),
    ({"model": "xai/grok-imagine-video", "prompt": "hi", "input_reference": {"file_id": "file_1"}}, "input_reference"),
    ({"model": "together/google/veo-3.0", "prompt": "hi", "seconds": "5"}, "seconds"),
    ({"model": "together/kwaivgI/kling-2.1-master", "prompt": "hi", "size": "1280x720"}, "size"),
    ({"model": "together/minimax/hailuo-02", "prompt": "hi", "input_reference": {"file_id": "file_1"}},
     "input_reference"),
])
def test_bad_requests_name_the_field(server, key, body, param):
    before = db_rows(server, "SELECT COUNT(*) AS n FROM async_jobs")[0]["n"]
    response = call(server, key, "POST", "/v1/videos", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert db_rows(server, "SELECT COUNT(*) AS n FROM async_jobs")[0]["n"] == before


def test_sdk_validation_error_is_raised(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.videos.create(model="openai/sora-2", prompt="hi", seconds="5")
    assert caught.value.body["param"] == "seconds"


@pytest.mark.parametrize("model", ["openai/sora-2", "gemini/veo-3.0-generate-001"])
def test_upstream_429_on_create_persists_nothing(server, key, model):
    before = db_rows(server, "SELECT COUNT(*) AS n FROM async_jobs")[0]["n"]
    response = call(server, key, "POST", "/v1/videos", json={"model": model, "prompt": "x [[emulator:fault=429]]"})
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(response.headers["retry-after"]) >= 1
    assert db_rows(server, "SELECT COUNT(*) AS n FROM async_jobs")[0]["n"] == before
    row = server.usage_row(response.headers["x-request-id"])
    assert (row["endpoint"], row["status"], row["http_status"], row["error_type"]) == ("video", "error", 429, "rate_limit")


def test_unknown_id_and_auth(server, key):
    assert call(server, key, "GET", "/v1/videos/video_nope").status_code == 404
    assert httpx.get(server.base_url + "/v1/videos").status_code == 401
    bad = call(server, key, "GET", "/v1/videos", params={"limit": 0})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"


def test_multipart_fields_as_the_sdk_encodes_them(server, key, emulator):
    """Form fields `input_reference[image_url]` (an object, as the SDK flattens one) become the nested object."""
    png = base64.b64encode(b"\x89PNG\r\n\x1a\nframe").decode()
    text = prompt("Form fields")
    fields = {"model": "gemini/veo-3.0-generate-001", "seconds": "8", "size": "1920x1080",
              "input_reference[image_url]": f"data:image/png;base64,{png}"}
    stray_file = call(server, key, "POST", "/v1/videos", data=fields, files={"prompt": (None, text),
                                                                              "extra": ("a.bin", b"x")})
    assert stray_file.status_code == 400 and stray_file.json()["error"]["param"] == "extra"  # only input_reference is a file
    response = call(server, key, "POST", "/v1/videos", data=fields, files={"prompt": (None, text)})  # multipart
    assert response.status_code == 200, response.text
    body = sent(emulator, text)["body"]
    assert body["instances"][0]["image"] == {"bytesBase64Encoded": png, "mimeType": "image/png"}
    assert body["parameters"] == {"aspectRatio": "16:9", "durationSeconds": 8, "resolution": "1080p"}


def test_malformed_multipart_is_400(server, key):
    response = call(server, key, "POST", "/v1/videos", content=b"not multipart at all",
                    headers={"content-type": "multipart/form-data; boundary=zzz"})
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_multipart"
