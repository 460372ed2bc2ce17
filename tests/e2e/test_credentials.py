"""Provider credentials over HTTP: the admin API (write-only, masked, tenant-scoped), the 6-level resolution
(user → org → tier → system → env) told by `x-gateway-key-level` and by the key the emulator received, a
key the emulator rejects (any key starting `rejected-`: OpenAI's 401 invalid_api_key) marked invalid and
skipped, a missing or malformed GATEWAY_ENCRYPTION_KEY, and a key rotation that loses nothing.

This module runs its own gateway (its own SQLite file), so its system-level credentials never serve the
other modules' requests."""

from __future__ import annotations

import base64
import logging
import sqlite3
import uuid
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import ADMIN_KEY, OPENAI_TEST_KEY, GatewayServer, gateway_config, provider_key

K1 = "k1:" + base64.b64encode(bytes(range(32))).decode()
K2 = "k2:" + base64.b64encode(bytes(range(32, 64))).decode()
MODEL = "openai/gpt-4o-mini"


def seed_tenants(db_path: Path) -> None:
    """Alice (member) and Bob (admin) of Acme, on the professional tier; Carol owns Globex."""
    with sqlite3.connect(db_path) as db:
        db.executescript("""
            INSERT INTO users (id, email, tier_id) VALUES ('usr_alice', 'alice@acme.test', 'personal'),
                ('usr_bob', 'bob@acme.test', 'personal'), ('usr_carol', 'carol@globex.test', 'personal');
            INSERT INTO organizations (id, name, slug, tier_id) VALUES ('org_acme', 'Acme', 'acme', 'professional'),
                ('org_globex', 'Globex', 'globex', 'professional');
            INSERT INTO memberships (org_id, user_id, role) VALUES ('org_acme', 'usr_alice', 'member'),
                ('org_acme', 'usr_bob', 'admin'), ('org_globex', 'usr_carol', 'owner');
        """)


@pytest.fixture(scope="module")
def gw(emulator, tmp_path_factory) -> GatewayServer:
    db_path = tmp_path_factory.mktemp("creds") / "gateway.sqlite3"
    server = GatewayServer(gateway_config(emulator.base_url, GATEWAY_ENCRYPTION_KEY=K1), db_path).start()
    seed_tenants(db_path)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def keys(gw) -> dict[str, str]:
    # tier_id None: each key takes its org's tier (professional), which the tier-level credential serves.
    return {
        "alice": gw.create_key(name="alice", user_id="usr_alice", org_id="org_acme", tier_id=None),
        "bob": gw.create_key(name="bob", user_id="usr_bob", org_id="org_acme", tier_id=None),
        "carol": gw.create_key(name="carol", user_id="usr_carol", org_id="org_globex", tier_id=None),
    }


def as_(gw: GatewayServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=gw.base_url, headers={"authorization": f"Bearer {key}"}, timeout=10)


def put(gw, key: str, **body) -> dict:
    with as_(gw, key) as client:
        response = client.post("/admin/credentials", json={"provider_id": "openai", **body})
    assert response.status_code == 201, response.text
    return response.json()


def delete(gw, key: str, credential_id: str) -> None:
    with as_(gw, key) as client:
        assert client.delete(f"/admin/credentials/{credential_id}").status_code == 200


def listed(gw, key: str) -> list[dict]:
    with as_(gw, key) as client:
        response = client.get("/admin/credentials")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def chat(gw, key: str, emulator) -> tuple[str, list[str], dict]:
    """(x-gateway-key-level, the provider keys the emulator received for this request, the usage row)."""
    marker = f"creds-{uuid.uuid4().hex}"
    client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model=MODEL, messages=[{"role": "user", "content": marker}])
    assert raw.parse().choices[0].message.content
    return raw.headers["x-gateway-key-level"], upstream_keys(emulator, marker), gw.usage_row(raw.headers["x-request-id"])


def upstream_keys(emulator, marker: str) -> list[str]:
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    return [r["headers"]["Authorization"].removeprefix("Bearer ") for r in recorded if marker in str(r["body"])]


@pytest.fixture(autouse=True)
def no_credentials_left(gw):
    """Each test starts with none: deleted through the API, which also drops the isolate's key cache."""
    yield
    for credential in listed(gw, ADMIN_KEY):
        delete(gw, ADMIN_KEY, credential["id"])


def test_each_level_wins_when_it_is_the_first_with_a_key(gw, keys, emulator):
    system = put(gw, ADMIN_KEY, scope="system", api_key="sk-system-level-key-0001")
    tier = put(gw, ADMIN_KEY, scope="tier", tier_id="professional", api_key="sk-tier-level-key-0002")
    org = put(gw, keys["bob"], scope="org", org_id="org_acme", api_key="sk-org-level-key-0003")
    user = put(gw, keys["alice"], scope="user", api_key="sk-user-level-key-0004")
    expected = [("user", "sk-user-level-key-0004", keys["alice"], user), ("org", "sk-org-level-key-0003",
                keys["bob"], org), ("tier", "sk-tier-level-key-0002", ADMIN_KEY, tier),
                ("system", "sk-system-level-key-0001", ADMIN_KEY, system)]
    for level, provider_key, owner_key, credential in expected:
        served, received, row = chat(gw, keys["alice"], emulator)
        assert (served, received) == (level, [provider_key])
        assert (row["key_level"], row["attempts"]) == (level, 1)
        delete(gw, owner_key, credential["id"])
    assert chat(gw, keys["alice"], emulator)[:2] == ("env", [OPENAI_TEST_KEY])


def test_another_tenants_credentials_never_serve_the_caller(gw, keys, emulator):
    put(gw, keys["carol"], scope="org", org_id="org_globex", api_key="sk-globex-org-key-9999")
    put(gw, keys["bob"], scope="user", api_key="sk-bob-own-key-88888")
    put(gw, ADMIN_KEY, scope="tier", tier_id="business", api_key="sk-business-tier-7777")
    assert chat(gw, keys["alice"], emulator)[:2] == ("env", [OPENAI_TEST_KEY])
    assert chat(gw, keys["carol"], emulator)[:2] == ("org", ["sk-globex-org-key-9999"])


def test_a_rejected_key_is_marked_invalid_and_the_request_moves_down(gw, keys, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    bad_user = put(gw, keys["alice"], scope="user", api_key="rejected-alice-key-5555")
    put(gw, keys["bob"], scope="org", org_id="org_acme", api_key="sk-acme-org-key-6666")
    served, received, row = chat(gw, keys["alice"], emulator)
    assert (served, received) == ("org", ["rejected-alice-key-5555", "sk-acme-org-key-6666"])
    assert (row["key_level"], row["attempts"], row["status"]) == ("org", 2, "success")

    mine = {c["id"]: c for c in listed(gw, keys["alice"])}
    assert mine[bad_user["id"]]["status"] == "invalid" and mine[bad_user["id"]]["last_failed_at"]
    assert mine[bad_user["id"]]["last_error"].startswith("401 upstream_auth_failed: openai: Incorrect API key")
    assert "rejected-alice-key-5555" not in mine[bad_user["id"]]["last_error"]

    served, received, row = chat(gw, keys["alice"], emulator)  # the invalid key is not tried again
    assert (served, received, row["attempts"]) == ("org", ["sk-acme-org-key-6666"], 1)
    assert "marked invalid" in caplog.text
    for secret in ("rejected-alice-key-5555", "sk-acme-org-key-6666", OPENAI_TEST_KEY):
        assert secret not in caplog.text


def test_a_key_out_of_quota_moves_down_a_level_and_stays_active(gw, keys, emulator):
    exhausted = put(gw, keys["alice"], scope="user", api_key="exhausted-alice-key-4444")
    put(gw, keys["bob"], scope="org", org_id="org_acme", api_key="sk-acme-org-key-6666")
    served, received, row = chat(gw, keys["alice"], emulator)
    assert (served, received) == ("org", ["exhausted-alice-key-4444", "sk-acme-org-key-6666"])
    assert (row["key_level"], row["attempts"], row["status"]) == ("org", 2, "success")
    failed = gw.usage_row(row["request_id"] + ".1")
    assert (failed["attempt_of"], failed["key_level"], failed["error_type"], failed["cost_usd"]) == (
        row["request_id"], "user", "quota_exceeded", 0)
    mine = {c["id"]: c for c in listed(gw, keys["alice"])}
    assert mine[exhausted["id"]]["status"] == "active"  # the key is good; its account needs credit


def test_rejections_walk_down_every_level_to_env(gw, keys, emulator):
    put(gw, keys["alice"], scope="user", api_key="rejected-user-000000001")
    put(gw, keys["bob"], scope="org", org_id="org_acme", api_key="rejected-org-0000000002")
    put(gw, ADMIN_KEY, scope="system", api_key="rejected-system-000003")
    served, received, row = chat(gw, keys["alice"], emulator)
    assert served == "env" and received[-1] == OPENAI_TEST_KEY and len(received) == 4 and row["attempts"] == 4
    assert {c["status"] for c in listed(gw, ADMIN_KEY)} == {"invalid"}


def test_other_endpoints_move_down_too(gw, keys, emulator):
    put(gw, keys["alice"], scope="user", api_key="rejected-alice-embed-01")
    put(gw, ADMIN_KEY, scope="system", api_key="sk-system-embed-key-02")
    client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=keys["alice"], max_retries=0)
    marker = f"embed-{uuid.uuid4().hex}"
    raw = client.embeddings.with_raw_response.create(model="openai/text-embedding-3-small", input=marker)
    assert len(raw.parse().data) == 1 and raw.headers["x-gateway-key-level"] == "system"
    assert upstream_keys(emulator, marker) == ["rejected-alice-embed-01", "sk-system-embed-key-02"]


def test_write_only_masked_and_not_stored_in_clear(gw, keys):
    created = put(gw, keys["alice"], scope="user", api_key="  sk-proj-write-only-a1b2  ")
    assert created["masked_hint"] == "sk-…a1b2" and created["status"] == "active"
    assert created["user_id"] == "usr_alice" and created["encryption_key_id"] == "k1"
    assert "api_key" not in created and "ciphertext" not in created
    with as_(gw, keys["alice"]) as client:
        listing = client.get("/admin/credentials").text
    assert "sk-proj-write-only-a1b2" not in listing and "sk-…a1b2" in listing
    with sqlite3.connect(gw.db_path) as db:
        dump = "\n".join(db.iterdump())
        stored = db.execute("SELECT ciphertext FROM provider_credentials WHERE id = ?", (created["id"],)).fetchone()
    assert "write-only" not in dump and len(base64.b64decode(stored[0])) == 12 + len("sk-proj-write-only-a1b2") + 16


def test_a_new_key_for_the_same_owner_replaces_the_old(gw, keys, emulator):
    first = put(gw, keys["alice"], scope="user", api_key="sk-first-alice-key-1111")
    second = put(gw, keys["alice"], scope="user", api_key="sk-second-alice-key-222")
    assert [c["id"] for c in listed(gw, keys["alice"])] == [second["id"]] and first["id"] != second["id"]
    assert chat(gw, keys["alice"], emulator)[:2] == ("user", ["sk-second-alice-key-222"])


def test_scopes_and_tenants_are_enforced(gw, keys):
    alice_own = put(gw, keys["alice"], scope="user", api_key="sk-alice-scoped-key-01")
    acme = put(gw, keys["bob"], scope="org", org_id="org_acme", api_key="sk-acme-scoped-key-002")
    globex = put(gw, keys["carol"], scope="org", org_id="org_globex", api_key="sk-globex-scoped-key-3")
    with as_(gw, keys["alice"]) as alice:
        for body in ({"scope": "org", "org_id": "org_acme"}, {"scope": "system"},
                     {"scope": "tier", "tier_id": "free"}, {"scope": "user", "user_id": "usr_bob"}):
            response = alice.post("/admin/credentials", json={"provider_id": "openai", "api_key": "sk-x", **body})
            assert response.status_code == 403, body
            assert response.json()["error"]["code"] == "credential_scope_forbidden"
        assert alice.delete(f"/admin/credentials/{acme['id']}").status_code == 404
    assert [c["id"] for c in listed(gw, keys["alice"])] == [alice_own["id"]]
    assert [c["id"] for c in listed(gw, keys["bob"])] == [acme["id"]]   # an org admin: the org's, not members'
    assert [c["id"] for c in listed(gw, keys["carol"])] == [globex["id"]]
    assert {c["id"] for c in listed(gw, ADMIN_KEY)} == {alice_own["id"], acme["id"], globex["id"]}
    with as_(gw, keys["carol"]) as carol:
        for other in (alice_own, acme):
            response = carol.delete(f"/admin/credentials/{other['id']}")
            assert response.status_code == 404 and response.json()["error"]["code"] == "credential_not_found"
        assert carol.delete("/admin/credentials/cred_made_up").status_code == 404
        assert carol.post("/admin/credentials/rotate").status_code == 403
    with as_(gw, keys["bob"]) as bob:
        assert bob.delete(f"/admin/credentials/{alice_own['id']}").status_code == 404


def test_bad_credential_requests_name_the_field(gw, keys):
    cases = [
        ({"provider_id": "openai", "scope": "user"}, "api_key"),
        ({"provider_id": "openai", "scope": "galaxy", "api_key": "k"}, "scope"),
        ({"provider_id": "nope", "scope": "system", "api_key": "sk-1"}, "provider_id"),
        ({"provider_id": "openai", "scope": "org", "api_key": "sk-1"}, "org_id"),
        ({"provider_id": "openai", "scope": "tier", "api_key": "sk-1"}, "tier_id"),
        ({"provider_id": "openai", "scope": "system", "org_id": "org_acme", "api_key": "sk-1"}, "org_id"),
        ({"provider_id": "openai", "scope": "system", "api_key": "sk-\n1"}, "api_key"),
    ]
    with gw.admin() as admin:
        for body, param in cases:
            response = admin.post("/admin/credentials", json=body)
            assert response.status_code == 400, (body, response.text)
            assert response.json()["error"]["param"] == param, body
        response = admin.post("/admin/credentials", json={"provider_id": "openai", "scope": "tier",
                                                           "tier_id": "platinum", "api_key": "sk-1"})
        assert response.status_code == 400 and response.json()["error"]["code"] == "unknown_reference"
    assert listed(gw, ADMIN_KEY) == []


def test_credentials_api_is_in_the_openapi_schema(gw):
    paths = httpx.get(gw.base_url + "/openapi.json").json()["paths"]
    assert {"post", "get"} <= set(paths["/admin/credentials"]) and "delete" in paths["/admin/credentials/{credential_id}"]
    assert "post" in paths["/admin/credentials/rotate"]


@pytest.mark.parametrize("secret", [None, "k1:bm90LTMyLWJ5dGVz", "garbage-without-an-id"])
def test_without_a_usable_encryption_key_writes_are_refused_and_env_keys_still_serve(emulator, tmp_path, secret):
    overrides = {"GATEWAY_ENCRYPTION_KEY": "" if secret is None else secret}  # conftest's gateways have a key
    server = GatewayServer(gateway_config(emulator.base_url, **overrides), tmp_path / "gw.sqlite3").start()
    try:
        with server.admin() as admin:
            response = admin.post("/admin/credentials",
                                  json={"provider_id": "openai", "scope": "system", "api_key": "sk-never-stored-1"})
            assert response.status_code == 500
            error = response.json()["error"]
            assert error["code"] == "encryption_not_configured" and "GATEWAY_ENCRYPTION_KEY" in error["message"]
            if secret is not None:
                assert secret.split(":")[-1] not in error["message"]
            assert admin.get("/admin/credentials").json()["data"] == []
        served, received, _ = chat(server, server.create_key(name="t"), emulator)
        assert (served, received) == ("env", [OPENAI_TEST_KEY])
    finally:
        server.stop()


def test_rotation_loses_no_credential(emulator, tmp_path):
    db_path = tmp_path / "rotate.sqlite3"

    def serve(secret: str) -> GatewayServer:
        return GatewayServer(gateway_config(emulator.base_url, GATEWAY_ENCRYPTION_KEY=secret), db_path).start()

    server = serve(K1)
    seed_tenants(db_path)
    alice = server.create_key(name="alice", user_id="usr_alice", org_id="org_acme")
    stored = {"user": "sk-rotate-user-key-001", "org": "sk-rotate-org-key-0002", "system": "sk-rotate-system-03"}
    put(server, ADMIN_KEY, scope="user", user_id="usr_alice", api_key=stored["user"])
    put(server, ADMIN_KEY, scope="org", org_id="org_acme", api_key=stored["org"])
    put(server, ADMIN_KEY, scope="system", api_key=stored["system"])
    server.stop()

    server = serve(f"{K2},{K1}")  # step 1: the new key first, the old one kept
    try:
        assert chat(server, alice, emulator)[:2] == ("user", [stored["user"]])  # old rows still open
        with server.admin() as admin:
            first = admin.post("/admin/credentials/rotate", params={"limit": 2}).json()
            assert (first["current_key_id"], first["resealed"], first["remaining"]) == ("k2", 2, 1)
            second = admin.post("/admin/credentials/rotate").json()
            assert (second["resealed"], second["remaining"], second["unreadable"]) == (1, 0, 0)
            assert {c["encryption_key_id"] for c in admin.get("/admin/credentials").json()["data"]} == {"k2"}
    finally:
        server.stop()

    server = serve(K2)  # step 2: the old key dropped
    try:
        for credential in listed(server, ADMIN_KEY):
            level = credential["scope"]
            served, received, _ = chat(server, alice, emulator)
            assert (served, received) == (level, [stored[level]])
            delete(server, ADMIN_KEY, credential["id"])
    finally:
        server.stop()


def test_a_stream_moves_down_before_its_first_byte(gw, keys, emulator):
    put(gw, keys["alice"], scope="user", api_key="rejected-alice-stream-1")
    put(gw, keys["bob"], scope="org", org_id="org_acme", api_key="sk-acme-stream-key-0002")
    marker = f"stream-{uuid.uuid4().hex}"
    client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=keys["alice"], max_retries=0)
    with client.chat.completions.with_streaming_response.create(
        model=MODEL, messages=[{"role": "user", "content": marker}], stream=True
    ) as response:
        text = "".join(chunk.choices[0].delta.content or "" for chunk in response.parse() if chunk.choices)
        assert response.headers["x-gateway-key-level"] == "org"
    assert text and upstream_keys(emulator, marker) == ["rejected-alice-stream-1", "sk-acme-stream-key-0002"]


def test_an_env_key_the_provider_rejects_is_the_final_error(emulator, tmp_path):
    server = GatewayServer(gateway_config(emulator.base_url, GATEWAY_ENCRYPTION_KEY=K1,
                                          OPENAI_API_KEY="rejected-env-key-00001"), tmp_path / "env.sqlite3").start()
    try:
        seed_tenants(server.db_path)
        alice = server.create_key(name="alice", user_id="usr_alice", org_id="org_acme")
        put(server, ADMIN_KEY, scope="user", user_id="usr_alice", api_key="rejected-user-key-00002")
        for expected_keys in (["rejected-user-key-00002", "rejected-env-key-00001"], ["rejected-env-key-00001"]):
            marker = f"env-{uuid.uuid4().hex}"
            response = httpx.post(server.base_url + "/v1/chat/completions", timeout=10,
                                  headers={"authorization": f"Bearer {alice}"},
                                  json={"model": MODEL, "messages": [{"role": "user", "content": marker}]})
            assert response.status_code == 502 and response.json()["error"]["code"] == "upstream_auth_failed"
            assert upstream_keys(emulator, marker) == expected_keys
            row = server.usage_row(response.headers["x-request-id"])
            assert (row["key_level"], row["attempts"]) == ("env", len(expected_keys))
            assert "rejected-env-key-00001" not in response.text
        assert [c["status"] for c in listed(server, ADMIN_KEY)] == ["invalid"]
    finally:
        server.stop()


def test_an_owner_disables_and_reactivates_a_key(gw, keys, emulator):
    own = put(gw, keys["alice"], scope="user", api_key="sk-alice-toggle-key-001")
    with as_(gw, keys["alice"]) as alice:
        disabled = alice.patch(f"/admin/credentials/{own['id']}", json={"status": "disabled"})
        assert disabled.status_code == 200 and disabled.json()["status"] == "disabled"
        assert chat(gw, keys["alice"], emulator)[:2] == ("env", [OPENAI_TEST_KEY])
        assert alice.patch(f"/admin/credentials/{own['id']}", json={"status": "invalid"}).json()["error"][
            "param"] == "status"
        assert alice.patch(f"/admin/credentials/{own['id']}", json={"status": "active"}).json()["status"] == "active"
    assert chat(gw, keys["alice"], emulator)[:2] == ("user", ["sk-alice-toggle-key-001"])
    with as_(gw, keys["carol"]) as carol:
        assert carol.patch(f"/admin/credentials/{own['id']}", json={"status": "disabled"}).status_code == 404


VIDEO_MODEL = "gemini/veo-3.0-generate-001"


def video_polls(emulator) -> list[dict]:
    """The Gemini operation polls the emulator received (since its log was last cleared)."""
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    return [r for r in recorded if r["method"] == "GET" and "/operations/" in r["path"]]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_video_job_is_polled_with_the_key_that_created_it(gw, keys, emulator):
    # Created on the env key; a user-level key added afterwards is another provider account, which does
    # not hold the job: its polls must keep the env key (the job's key level), while new jobs take the user's.
    client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=keys["alice"], max_retries=0)
    first = client.videos.with_raw_response.create(model=VIDEO_MODEL, prompt=f"pinned {uuid.uuid4().hex} [[emulator:polls=3]]")
    assert first.headers["x-gateway-key-level"] == "env"
    put(gw, keys["alice"], provider_id="gemini", scope="user", user_id="usr_alice", api_key="gm-user-level-key-9999")
    httpx.delete(emulator.base_url + "/_emulator/requests")
    assert client.videos.retrieve(first.parse().id).status == "in_progress"
    polls = video_polls(emulator)
    assert polls and {p["headers"]["x-goog-api-key"] for p in polls} == {provider_key("GEMINI")}
    second = client.videos.with_raw_response.create(model=VIDEO_MODEL, prompt=f"user key {uuid.uuid4().hex}")
    assert second.headers["x-gateway-key-level"] == "user"


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_job_whose_key_is_gone_is_not_polled_with_another_key(gw, keys, emulator):
    client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=keys["alice"], max_retries=0)
    credential = put(gw, keys["alice"], provider_id="gemini", scope="user", user_id="usr_alice",
                     api_key="gm-user-level-key-8888")
    video = client.videos.create(model=VIDEO_MODEL, prompt=f"orphan {uuid.uuid4().hex} [[emulator:polls=3]]")
    delete(gw, keys["alice"], credential["id"])
    httpx.delete(emulator.base_url + "/_emulator/requests")
    response = as_(gw, keys["alice"]).get(f"/v1/videos/{video.id}")
    assert response.status_code == 502 and response.json()["error"]["code"] == "job_key_unavailable"
    assert video_polls(emulator) == []  # nothing was sent with another level's key
    # The job is not failed for it: restoring the key lets it finish.
    (job,) = [v for v in as_(gw, keys["alice"]).get("/v1/videos").json()["data"] if v["id"] == video.id]
    assert job["status"] == "queued"
