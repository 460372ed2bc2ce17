"""Tenancy over HTTP: orgs, users, memberships, keys and usage seen through each principal's eyes.

Two orgs (A: alice owner, bob member; B: carol owner) and dave, in no org. Another tenant's object answers
404 (never 403), lists are filtered, a plain member cannot manage the org, revoked and expired keys are
refused, no secret or key hash appears in an admin answer or a log line, and a key limited to some models or
providers gets 403 naming `model` on every route before any upstream call.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
import wave
from dataclasses import dataclass

import httpx
import openai
import pytest

from gateway.storage.keys import hash_key


@dataclass(frozen=True)
class Person:
    user_id: str
    key: str      # a personal gateway key (the admin API principal)
    key_id: str


@dataclass(frozen=True)
class World:
    org_a: str
    org_b: str
    alice: Person  # owner of A
    bob: Person    # member of A
    carol: Person  # owner of B
    dave: Person   # in no org
    bob_org_key: str
    bob_org_key_id: str


def client(gateway, key: str) -> httpx.Client:
    return httpx.Client(base_url=gateway.base_url, headers={"authorization": f"Bearer {key}"}, timeout=10)


def sdk(gateway, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=key, max_retries=0)


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {row["id"] for row in response.json()["data"]}


def chat(gateway, key: str, text: str = "hello") -> str:
    raw = sdk(gateway, key).chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": text}])
    return raw.headers["x-request-id"]


@pytest.fixture(scope="module")
def world(gateway) -> World:
    tag = uuid.uuid4().hex[:8]
    with gateway.admin() as system:
        def user(name: str) -> str:
            # 'business': no daily request cap, so these tests never meet the tier limiter.
            response = system.post("/admin/users", json={"email": f"{name}-{tag}@example.com", "name": name,
                                                         "tier_id": "business"})
            assert response.status_code == 201, response.text
            return response.json()["id"]

        def person(name: str) -> Person:
            user_id = user(name)
            created = system.post("/admin/keys", json={"user_id": user_id, "name": f"{name} personal"}).json()
            return Person(user_id, created["key"], created["id"])

        def org(name: str) -> str:
            response = system.post("/admin/orgs", json={"name": name, "slug": f"{name}-{tag}"})
            assert response.status_code == 201, response.text
            return response.json()["id"]

        alice, bob, carol, dave = (person(n) for n in ("alice", "bob", "carol", "dave"))
        org_a, org_b = org("org-a"), org("org-b")
        for org_id, member, role in ((org_a, alice, "owner"), (org_a, bob, "member"), (org_b, carol, "owner")):
            response = system.put(f"/admin/orgs/{org_id}/members/{member.user_id}", json={"role": role})
            assert response.status_code == 200, response.text
    with client(gateway, alice.key) as as_alice:  # an org admin makes a member's org key
        created = as_alice.post("/admin/keys", json={"user_id": bob.user_id, "org_id": org_a, "name": "bob@A"})
        assert created.status_code == 201, created.text
    return World(org_a, org_b, alice, bob, carol, dave, created.json()["key"], created.json()["id"])


# --- one org never sees another's objects ----------------------------------------------------------

def test_another_orgs_objects_answer_404_and_are_left_out_of_lists(gateway, world):
    with client(gateway, world.carol.key) as carol:
        for path, param in ((f"/admin/orgs/{world.org_a}", "org_id"),
                            (f"/admin/orgs/{world.org_a}/members", "org_id"),
                            (f"/admin/keys/{world.bob_org_key_id}", "key_id"),
                            (f"/admin/keys/{world.alice.key_id}", "key_id"),
                            (f"/admin/users/{world.alice.user_id}", "user_id"),
                            (f"/admin/users/{world.bob.user_id}", "user_id")):
            error = error_of(carol.get(path), 404)
            assert error["param"] == param and error["type"] == "not_found_error"
        # The same answer as for ids that do not exist at all: nothing to probe.
        assert error_of(carol.get("/admin/keys/key_doesnotexist"), 404)["code"] == "key_not_found"
        assert error_of(carol.get(f"/admin/keys/{world.bob_org_key_id}"), 404)["code"] == "key_not_found"
        # Writes to another org's objects: 404 as well.
        assert error_of(carol.patch(f"/admin/keys/{world.bob_org_key_id}", json={"requests_per_day": 1}), 404)
        assert error_of(carol.delete(f"/admin/keys/{world.bob_org_key_id}"), 404)
        assert error_of(carol.patch(f"/admin/orgs/{world.org_a}", json={"daily_budget_usd": 1}), 404)
        assert error_of(carol.put(f"/admin/orgs/{world.org_a}/members/{world.carol.user_id}",
                                  json={"role": "owner"}), 404)
        assert error_of(carol.post("/admin/keys", json={"user_id": world.carol.user_id, "org_id": world.org_a}), 404)
        assert ids(carol.get("/admin/orgs")) == {world.org_b}
        assert ids(carol.get("/admin/users")) == {world.carol.user_id}
        visible_keys = ids(carol.get("/admin/keys"))
        assert world.carol.key_id in visible_keys
        assert not visible_keys & {world.bob_org_key_id, world.alice.key_id, world.bob.key_id}
    with gateway.admin() as system:  # the org key is still there, untouched
        assert system.get(f"/admin/keys/{world.bob_org_key_id}").json()["status"] == "active"


def test_usage_is_filtered_to_what_each_principal_may_see(gateway, world):
    bob_org = chat(gateway, world.bob_org_key, "bob via org A")
    bob_own = chat(gateway, world.bob.key, "bob personal")
    dave_own = chat(gateway, world.dave.key, "dave personal")
    carol_own = chat(gateway, world.carol.key, "carol personal")
    for request_id in (bob_org, bob_own, dave_own, carol_own):
        gateway.usage_row(request_id)  # written after the answer: wait until all four are in

    def seen(key: str, **params) -> set[str]:
        with client(gateway, key) as principal:
            response = principal.get("/admin/usage", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        return {row["request_id"] for row in response.json()["data"]}

    mine = {bob_org, bob_own, dave_own, carol_own}
    assert seen(world.alice.key) & mine == {bob_org}            # org A's rows, not bob's personal ones
    assert seen(world.carol.key) & mine == {carol_own}          # never org A's
    assert seen(world.dave.key) & mine == {dave_own}
    assert seen(world.bob.key) & mine == {bob_org, bob_own}     # a user's own rows, org key included
    assert seen(world.carol.key, key_id=world.bob_org_key_id) == set()
    assert seen(world.alice.key, key_id=world.bob_org_key_id) & mine == {bob_org}
    assert seen(world.bob.key, model="openai/gpt-4o") & mine == set()
    assert seen(world.bob.key, model="openai/gpt-4o-mini") & mine == {bob_org, bob_own}
    assert seen(world.bob.key, since="2999-01-01T00:00:00Z") == set()
    with client(gateway, world.bob.key) as bob:
        assert error_of(bob.get("/admin/usage", params={"since": "yesterday"}), 400)["param"] == "since"
        assert error_of(bob.get("/admin/usage", params={"limit": 0}), 400)["param"] == "limit"


# --- users and members -----------------------------------------------------------------------------

def test_a_user_sees_and_manages_only_their_own_keys(gateway, world):
    with client(gateway, world.dave.key) as dave:
        assert ids(dave.get("/admin/keys")) == {world.dave.key_id}
        assert error_of(dave.get(f"/admin/keys/{world.bob.key_id}"), 404)["param"] == "key_id"
        assert error_of(dave.delete(f"/admin/keys/{world.bob.key_id}"), 404)
        assert error_of(dave.post("/admin/keys", json={"user_id": world.bob.user_id}), 404)["param"] == "user_id"
        assert error_of(dave.get(f"/admin/users/{world.bob.user_id}"), 404)
        assert dave.get(f"/admin/users/{world.dave.user_id}").json()["name"] == "dave"
        # Their own keys: create (for themselves by default), list, change limits, revoke.
        created = dave.post("/admin/keys", json={"name": "dave second", "requests_per_day": 5})
        assert created.status_code == 201 and created.json()["user_id"] == world.dave.user_id
        second = created.json()
        assert ids(dave.get("/admin/keys")) == {world.dave.key_id, second["id"]}
        patched = dave.patch(f"/admin/keys/{second['id']}", json={"requests_per_day": 3, "allowed_providers": ["openai"]})
        assert patched.status_code == 200 and patched.json()["requests_per_day"] == 3
        assert patched.json()["allowed_providers"] == ["openai"]
        assert error_of(dave.post("/admin/keys", json={"tier_id": "business"}), 403)["param"] == "tier_id"
        assert dave.delete(f"/admin/keys/{second['id']}").json()["status"] == "revoked"
        # The system-only parts of the API.
        for method, path, body in (("POST", "/admin/orgs", {"name": "x", "slug": f"x-{uuid.uuid4().hex[:6]}"}),
                                   ("POST", "/admin/users", {"name": "x"}),
                                   ("PATCH", "/admin/tiers/free", {"daily_request_limit": 1000}),
                                   ("GET", "/admin/providers", None)):
            response = dave.request(method, path, json=body)
            assert error_of(response, 403)["code"] == "system_admin_only"


def test_a_member_cannot_manage_the_org(gateway, world):
    with client(gateway, world.bob.key) as bob:
        assert bob.get(f"/admin/orgs/{world.org_a}").json()["id"] == world.org_a  # members may read it
        for method, path, body in (
            ("GET", f"/admin/orgs/{world.org_a}/members", None),
            ("PUT", f"/admin/orgs/{world.org_a}/members/{world.dave.user_id}", {"role": "member"}),
            ("DELETE", f"/admin/orgs/{world.org_a}/members/{world.alice.user_id}", None),
            ("PATCH", f"/admin/orgs/{world.org_a}", {"daily_budget_usd": 1000}),
            ("POST", "/admin/keys", {"org_id": world.org_a}),
        ):
            error = error_of(bob.request(method, path, json=body), 403)
            assert error["code"] == "org_admin_only" and error["param"] == "org_id"
        # His own org key: visible, but its limits are the org admins' to set (he may not lift them).
        assert bob.get(f"/admin/keys/{world.bob_org_key_id}").status_code == 200
        error = error_of(bob.patch(f"/admin/keys/{world.bob_org_key_id}", json={"allowed_models": None}), 403)
        assert error["code"] == "org_admin_only"
        assert ids(bob.get("/admin/users")) == {world.bob.user_id}


def test_an_org_admin_manages_members_keys_and_budgets_of_their_org_only(gateway, world):
    with client(gateway, world.alice.key) as alice:
        members = {m["user_id"]: m["role"] for m in alice.get(f"/admin/orgs/{world.org_a}/members").json()["data"]}
        assert members == {world.alice.user_id: "owner", world.bob.user_id: "member"}
        assert ids(alice.get("/admin/users")) == {world.alice.user_id, world.bob.user_id}
        # Budgets are the org admin's; the tier is the system's.
        patched = alice.patch(f"/admin/orgs/{world.org_a}", json={"daily_budget_usd": 5, "monthly_budget_usd": 50})
        assert patched.status_code == 200 and patched.json()["monthly_budget_usd"] == 50
        assert error_of(alice.patch(f"/admin/orgs/{world.org_a}", json={"tier_id": "business"}), 403)["param"] == "tier_id"
        assert error_of(alice.patch(f"/admin/orgs/{world.org_a}", json={"name": None}), 400)["param"] == "name"
        # A key for someone outside the org: as if the user did not exist.
        error = error_of(alice.post("/admin/keys", json={"user_id": world.dave.user_id, "org_id": world.org_a}), 404)
        assert error["param"] == "user_id"
        # Members' personal keys are not the org's business.
        assert error_of(alice.get(f"/admin/keys/{world.bob.key_id}"), 404)
        assert world.bob_org_key_id in ids(alice.get("/admin/keys", params={"org_id": world.org_a}))
        # Add dave, give him an org key, remove him: the key goes with the membership, at once.
        added = alice.put(f"/admin/orgs/{world.org_a}/members/{world.dave.user_id}", json={"role": "member"})
        assert added.status_code == 200 and added.json()["role"] == "member"
        dave_org = alice.post("/admin/keys", json={"user_id": world.dave.user_id, "org_id": world.org_a}).json()
        chat(gateway, dave_org["key"])
        assert alice.delete(f"/admin/orgs/{world.org_a}/members/{world.dave.user_id}").status_code == 204
        refused = httpx.get(gateway.base_url + "/v1/models", headers={"authorization": f"Bearer {dave_org['key']}"})
        assert error_of(refused, 401)["code"] == "revoked_api_key"
        assert alice.get(f"/admin/keys/{dave_org['id']}").json()["status"] == "revoked"
        # The last owner stays.
        error = error_of(alice.put(f"/admin/orgs/{world.org_a}/members/{world.alice.user_id}", json={"role": "admin"}), 409)
        assert error["code"] == "last_owner"


def test_only_owners_grant_the_owner_role(gateway, world):
    with gateway.admin() as system:
        system.put(f"/admin/orgs/{world.org_b}/members/{world.dave.user_id}", json={"role": "admin"})
    try:
        with client(gateway, world.dave.key) as dave:  # an admin, not an owner
            error = error_of(dave.put(f"/admin/orgs/{world.org_b}/members/{world.dave.user_id}",
                                      json={"role": "owner"}), 403)
            assert error["code"] == "owner_only"
            error = error_of(dave.delete(f"/admin/orgs/{world.org_b}/members/{world.carol.user_id}"), 403)
            assert error["code"] == "owner_only"
            assert dave.get(f"/admin/orgs/{world.org_b}/members").status_code == 200
    finally:
        with gateway.admin() as system:
            assert system.delete(f"/admin/orgs/{world.org_b}/members/{world.dave.user_id}").status_code == 204


# --- revoked and expired keys ----------------------------------------------------------------------

def test_revoked_key_is_refused_at_once_and_expired_key_with_its_code(gateway, world):
    with client(gateway, world.dave.key) as dave:
        created = dave.post("/admin/keys", json={"name": "short-lived"}).json()
        chat(gateway, created["key"])
        revoked = dave.delete(f"/admin/keys/{created['id']}").json()
        assert revoked["status"] == "revoked" and revoked["revoked_at"]
        with pytest.raises(openai.AuthenticationError) as refused:
            chat(gateway, created["key"])
        assert refused.value.response.json()["error"]["code"] == "revoked_api_key"
        # Revoking again keeps the first time.
        assert dave.delete(f"/admin/keys/{created['id']}").json()["revoked_at"] == revoked["revoked_at"]

        expired = dave.post("/admin/keys", json={"expires_at": "2020-01-01T00:00:00Z"}).json()
        assert expired["expires_at"] == "2020-01-01 00:00:00.000"
        with pytest.raises(openai.AuthenticationError) as refused:
            chat(gateway, expired["key"])
        assert refused.value.response.json()["error"]["code"] == "expired_api_key"
        # Expiring an active key by PATCH takes effect at once as well.
        later = dave.post("/admin/keys", json={"expires_at": "2999-01-01T00:00:00+02:00"}).json()
        chat(gateway, later["key"])
        dave.patch(f"/admin/keys/{later['id']}", json={"expires_at": "2021-01-01T00:00:00Z"})
        with pytest.raises(openai.AuthenticationError) as refused:
            chat(gateway, later["key"])
        assert refused.value.response.json()["error"]["code"] == "expired_api_key"
        # A revoked key cannot use the admin API either.
        assert error_of(client(gateway, created["key"]).get("/admin/keys"), 401)["code"] == "revoked_api_key"


# --- secrets ----------------------------------------------------------------------------------------

def test_no_secret_or_key_hash_in_admin_answers_or_logs(gateway, world, caplog):
    caplog.set_level(logging.DEBUG)
    answers: list[str] = []
    with client(gateway, world.dave.key) as dave:
        created = dave.post("/admin/keys", json={"name": "secret-check", "metadata": {"app": "ci"}})
        raw, key_id = created.json()["key"], created.json()["id"]
        secrets = (raw, hash_key(raw), world.dave.key, hash_key(world.dave.key))
        request_id = chat(gateway, raw, "secret check")
        gateway.usage_row(request_id)
        answers += [dave.get("/admin/keys").text, dave.get(f"/admin/keys/{key_id}").text,
                    dave.patch(f"/admin/keys/{key_id}", json={"name": "renamed"}).text,
                    dave.get("/admin/usage", params={"limit": 1000}).text, dave.get("/admin/me").text,
                    dave.delete(f"/admin/keys/{key_id}").text]
        for response in (httpx.get(gateway.base_url + "/v1/models", headers={"authorization": f"Bearer {raw}"}),
                         httpx.get(gateway.base_url + "/v1/models",
                                   headers={"authorization": f"Bearer {raw[:-1]}x"})):
            assert response.status_code == 401
            answers.append(response.text)
    with gateway.admin() as system:
        answers += [system.get("/admin/keys", params={"limit": 1000}).text,
                    system.get("/admin/usage", params={"limit": 1000}).text]
    assert "key_hash" not in "".join(answers)
    for secret in secrets:
        for answer in answers:
            assert secret not in answer
        assert secret not in caplog.text
    assert raw[:15] in answers[0]  # the visible prefix is shown: the key is recognisable without its secret
    assert all('"key":' not in answer for answer in answers)


# --- allowed models and providers on every route ------------------------------------------------------

def wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x01\x00" * int(seconds * rate))
    return buffer.getvalue()


ROUTES = {
    "chat": lambda c: c.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}]),
    "embeddings": lambda c: c.embeddings.create(model="openai/text-embedding-3-small", input="x"),
    "images": lambda c: c.images.generate(model="openai/dall-e-3", prompt="x"),
    "speech": lambda c: c.audio.speech.create(model="openai/tts-1", input="x", voice="alloy"),
    "transcription": lambda c: c.audio.transcriptions.create(file=("a.wav", wav(), "audio/wav"), model="openai/whisper-1"),
    "video": lambda c: c.videos.create(model="openai/sora-2", prompt="x"),
}


def upstream_calls(emulator) -> int:
    return len(httpx.get(emulator.base_url + "/_emulator/requests").json())


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks its videos resource deprecated (Sora)
@pytest.mark.parametrize("restriction", [{"allowed_models": ["anthropic/*"]}, {"allowed_providers": ["anthropic"]}])
@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_restricted_key_gets_403_naming_model_on_every_route(gateway, emulator, world, route, restriction):
    with client(gateway, world.dave.key) as dave:
        key = dave.post("/admin/keys", json={"name": f"only anthropic ({route})", **restriction}).json()["key"]
    before = upstream_calls(emulator)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        ROUTES[route](sdk(gateway, key))
    error = refused.value.response.json()["error"]
    assert error["param"] == "model" and error["code"] == "model_not_allowed" and error["type"] == "permission_error"
    assert upstream_calls(emulator) == before  # refused before any upstream call
    row = gateway.usage_row(refused.value.response.headers["x-request-id"])  # the owner sees the refusal
    assert (row["status"], row["http_status"], row["error_type"]) == ("error", 403, "permission_error")
    assert not row["cost_usd"] and row["user_id"] == world.dave.user_id


def test_the_allowed_models_still_work_and_patch_applies_at_once(gateway, world):
    with client(gateway, world.dave.key) as dave:
        created = dave.post("/admin/keys", json={"allowed_models": ["openai/gpt-4o-mini", "anthropic/*"]}).json()
        assert created["allowed_models"] == ["openai/gpt-4o-mini", "anthropic/*"]
        client_ = sdk(gateway, created["key"])
        answer = client_.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        assert answer.choices[0].message.content == "Emulated reply to: hi"
        raw = client_.chat.completions.with_raw_response.create(
            model="anthropic/claude-haiku-4-5", messages=[{"role": "user", "content": "hi"}])
        assert raw.headers["x-gateway-provider"] == "anthropic"
        with pytest.raises(openai.PermissionDeniedError):
            client_.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
        # Narrow the key: the isolate that changed it forgets its cached copy.
        dave.patch(f"/admin/keys/{created['id']}", json={"allowed_models": ["anthropic/*"]})
        with pytest.raises(openai.PermissionDeniedError):
            client_.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
        # null lifts the restriction again.
        dave.patch(f"/admin/keys/{created['id']}", json={"allowed_models": None})
        client_.chat.completions.create(model="openai/gpt-4o", messages=[{"role": "user", "content": "hi"}])
        # last_used_at is written off the request path, shortly after.
        deadline = time.monotonic() + 5
        while dave.get(f"/admin/keys/{created['id']}").json()["last_used_at"] is None:
            assert time.monotonic() < deadline, "last_used_at was never written"
            time.sleep(0.02)


def test_key_fields_are_validated_with_the_field_named(gateway, world):
    with client(gateway, world.dave.key) as dave:
        before = ids(dave.get("/admin/keys", params={"limit": 1000}))
        for body, param in (({"allowed_models": ["openai/gpt-*"]}, "allowed_models"),
                            ({"allowed_models": ["*"]}, "allowed_models"),
                            ({"allowed_providers": [""]}, "allowed_providers"),
                            ({"daily_budget_usd": -1}, "daily_budget_usd"),
                            ({"expires_at": "tomorrow"}, "expires_at"),
                            ({"requests_per_dya": 5}, "requests_per_dya")):
            error = error_of(dave.post("/admin/keys", json=body), 400)
            assert error["param"] == param and error["type"] == "invalid_request_error"
        assert ids(dave.get("/admin/keys", params={"limit": 1000})) == before  # no half-written key
    with gateway.admin() as system:
        error = error_of(system.post("/admin/keys", json={"user_id": world.dave.user_id, "org_id": world.org_a}), 400)
        assert error["code"] == "not_a_member" and error["param"] == "user_id"
        error = error_of(system.post("/admin/keys", json={"org_id": world.org_a}), 400)
        assert error["param"] == "user_id"


# --- tiers, me, OpenAPI ------------------------------------------------------------------------------

def test_tiers_are_readable_by_everyone_and_editable_by_the_system(gateway, world):
    with client(gateway, world.bob.key) as bob:
        tiers = {row["id"]: row for row in bob.get("/admin/tiers").json()["data"]}
        assert tiers["free"]["daily_request_limit"] == 10 and tiers["business"]["daily_request_limit"] is None
        assert tiers["business"]["pay_as_you_go"] is True
        assert bob.get("/admin/tiers/personal").json()["daily_request_limit"] == 100
        assert error_of(bob.get("/admin/tiers/platinum"), 404)["param"] == "tier_id"
    with gateway.admin() as system:
        changed = system.patch("/admin/tiers/personal", json={"daily_request_limit": 150})
        try:
            assert changed.status_code == 200 and changed.json()["daily_request_limit"] == 150
            assert system.get("/admin/tiers/personal").json()["daily_request_limit"] == 150
            assert system.patch("/admin/tiers/personal", json={}).json()["daily_request_limit"] == 150
        finally:
            system.patch("/admin/tiers/personal", json={"daily_request_limit": 100})
        assert error_of(system.patch("/admin/tiers/platinum", json={"daily_request_limit": 1}), 404)["param"] == "tier_id"
        assert error_of(system.patch("/admin/tiers/free", json={"daily_request_limit": -1}), 400)["param"] == "daily_request_limit"
        assert error_of(system.post("/admin/orgs", json={"name": "x", "slug": "y-" + uuid.uuid4().hex[:6],
                                                         "tier_id": "gold"}), 400)["param"] == "tier_id"


def test_me_says_who_the_caller_is(gateway, world):
    with client(gateway, world.alice.key) as alice:
        me = alice.get("/admin/me").json()
    assert me["system"] is False and me["user"]["id"] == world.alice.user_id
    assert me["memberships"] == {world.org_a: "owner"} and me["key_id"] == world.alice.key_id
    with gateway.admin() as system:
        assert system.get("/admin/me").json() == {"system": True, "user": None, "key_id": None, "memberships": {}}
        promoted = system.patch(f"/admin/users/{world.dave.user_id}", json={"is_system_admin": True})
        try:
            assert promoted.json()["is_system_admin"] is True
            with client(gateway, world.dave.key) as dave:  # a system-admin user sees everything
                assert world.bob_org_key_id in ids(dave.get("/admin/keys", params={"limit": 1000}))
                assert dave.get(f"/admin/orgs/{world.org_a}/members").status_code == 200
        finally:
            system.patch(f"/admin/users/{world.dave.user_id}", json={"is_system_admin": False})


def test_the_admin_api_is_in_the_openapi_schema(gateway):
    schema = httpx.get(gateway.base_url + "/openapi.json").json()
    paths = schema["paths"]
    for path, method in (("/admin/orgs", "post"), ("/admin/orgs/{org_id}/members/{user_id}", "put"),
                         ("/admin/users", "post"), ("/admin/tiers/{tier_id}", "patch"), ("/admin/keys", "post"),
                         ("/admin/keys/{key_id}", "patch"), ("/admin/keys/{key_id}", "delete"),
                         ("/admin/usage", "get"), ("/admin/providers", "get"), ("/admin/me", "get")):
        operation = paths[path][method]
        assert operation["summary"]
        assert "404" in operation["responses"] or "403" in operation["responses"]
    created = paths["/admin/keys"]["post"]["responses"]["201"]
    assert "shown this once" in created["description"]
    key_schema = schema["components"]["schemas"]["KeyOut"]["properties"]
    assert "key_hash" not in key_schema and "prefix" in key_schema
    assert schema["components"]["schemas"]["ErrorBody"]["properties"]["param"]


def test_an_org_key_acts_in_its_org_only(gateway, world):
    """Alice owns A; an org key of hers for A must not reach org B when she also administers B, nor
    carry system powers when she is a system admin."""
    with gateway.admin() as system:
        system.put(f"/admin/orgs/{world.org_b}/members/{world.alice.user_id}", json={"role": "admin"})
        system.patch(f"/admin/users/{world.alice.user_id}", json={"is_system_admin": True})
    try:
        with client(gateway, world.alice.key) as alice:
            org_key = alice.post("/admin/keys", json={"org_id": world.org_a, "name": "alice@A"}).json()
            assert alice.get(f"/admin/orgs/{world.org_b}/members").status_code == 200  # personal key: both
        with client(gateway, org_key["key"]) as scoped:
            assert scoped.get(f"/admin/orgs/{world.org_a}/members").status_code == 200
            assert error_of(scoped.get(f"/admin/orgs/{world.org_b}/members"), 404)["param"] == "org_id"
            assert scoped.get("/admin/me").json()["memberships"] == {world.org_a: "owner"}
            assert error_of(scoped.get("/admin/providers"), 403)["code"] == "system_admin_only"
    finally:
        with gateway.admin() as system:
            system.patch(f"/admin/users/{world.alice.user_id}", json={"is_system_admin": False})
            system.delete(f"/admin/orgs/{world.org_b}/members/{world.alice.user_id}")


def test_a_restricted_key_is_refused_on_the_messages_route_too(gateway, emulator, world):
    with client(gateway, world.dave.key) as dave:
        key = dave.post("/admin/keys", json={"allowed_providers": ["anthropic"]}).json()["key"]
    before = upstream_calls(emulator)
    response = httpx.post(gateway.base_url + "/v1/messages", headers={"x-api-key": key},
                          json={"model": "openai/gpt-4o-mini", "max_tokens": 16,
                                "messages": [{"role": "user", "content": "x"}]})
    assert response.status_code == 403  # in the Anthropic envelope on this route
    assert response.json()["error"]["type"] == "permission_error"
    assert upstream_calls(emulator) == before
