"""The fallback chains' admin API over HTTP (docs/admin.md, docs/fallbacks.md): the seeded defaults, CRUD,
the role model (system: everything; an org admin: reads the global chains, manages their org's; another
org's chain answers 404, a global one they may not change 403; members and users without an org 403), every
validation error (400 naming the field, nothing written), 409 on a taken scope, `default_strategy` checked on
keys and orgs, and an admin write reaching this isolate's ChainRules at once.

The module runs its own gateway (its own SQLite file): it edits global chains other tests must not see."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Iterator

import httpx
import pytest

from gateway.pipeline.fallback_rules import rules_for, select_rule
from tests.conftest import GatewayServer, gateway_config
from tests.e2e.admin_world import TwoOrgs, as_key, ok, two_orgs

PATH = "/admin/fallback-chains"
DEFAULT_TYPES = {"rate_limit", "server_error", "timeout", "model_not_found", "auth", "quota_exceeded",
                 "context_length", "content_filter"}
FALLBACK = "groq/llama-3.1-8b-instant"


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    running = GatewayServer(gateway_config(emulator.base_url),
                            tmp_path_factory.mktemp("chains") / "gateway.sqlite3").start()
    yield running
    running.stop()


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


def ids(response: httpx.Response) -> set[str]:
    return {row["id"] for row in ok(response)["data"]}


@pytest.fixture(scope="module")
def world(server) -> TwoOrgs:
    return two_orgs(server)


def stored(server: GatewayServer, chain_id: str) -> dict | None:
    rows = server.sql("SELECT * FROM fallback_chains WHERE id = ?", chain_id)
    return rows[0] if rows else None


def row_count(server: GatewayServer) -> int:
    return server.sql("SELECT count(*) AS n FROM fallback_chains")[0]["n"]


# --- the defaults and CRUD ---------------------------------------------------------------------------

def test_the_seeded_global_defaults_are_listed(server):
    with server.admin() as system:
        rows = ok(system.get(PATH))["data"]
    defaults = {row["error_type"]: row for row in rows if row["id"].startswith("default-")}
    assert set(defaults) == DEFAULT_TYPES  # no invalid_request: it never falls back
    assert all(row["org_id"] is None and row["model_pattern"] == "*" for row in defaults.values())
    assert defaults["context_length"]["chain"] == ["auto"] and defaults["context_length"]["max_attempts"] == 2
    assert defaults["content_filter"]["chain"] == [] and defaults["content_filter"]["allow_workers_ai"] is False
    assert defaults["rate_limit"] == {**defaults["rate_limit"], "object": "fallback_chain", "chain": [],
                                      "allow_workers_ai": True, "max_attempts": 3}


def test_system_creates_reads_changes_and_deletes_a_global_chain(server):
    with server.admin() as system:
        created = ok(system.post(PATH, json={"error_type": "server_error", "model_pattern": "openai/*",
                                             "chain": [FALLBACK, "auto/cheapest"]}), 201)
        assert created["org_id"] is None and created["chain"] == [FALLBACK, "auto/cheapest"]
        assert created["allow_workers_ai"] is True and created["max_attempts"] == 3  # the documented defaults
        chain_id = created["id"]
        row = stored(server, chain_id)
        assert json.loads(row["chain"]) == [FALLBACK, "auto/cheapest"] and row["allow_workers_ai"] == 1
        assert ok(system.get(f"{PATH}/{chain_id}")) == created
        assert chain_id in ids(system.get(PATH))

        changed = ok(system.patch(f"{PATH}/{chain_id}", json={"chain": ["auto"], "max_attempts": 5,
                                                              "allow_workers_ai": False}))
        assert (changed["chain"], changed["max_attempts"], changed["allow_workers_ai"]) == (["auto"], 5, False)
        assert changed["model_pattern"] == "openai/*" and changed["updated_at"] >= created["updated_at"]
        assert stored(server, chain_id)["max_attempts"] == 5

        assert system.delete(f"{PATH}/{chain_id}").status_code == 204
        assert stored(server, chain_id) is None
        assert error_of(system.get(f"{PATH}/{chain_id}"), 404)["code"] == "fallback_chain_not_found"
        assert error_of(system.delete(f"{PATH}/{chain_id}"), 404)["param"] == "chain_id"


def test_an_org_admin_manages_their_orgs_chains(server, world):
    with as_key(server, world.alice) as alice:
        created = ok(alice.post(PATH, json={"org_id": world.org_a, "error_type": "rate_limit",
                                            "model_pattern": "openai/gpt-4o-mini", "chain": [FALLBACK]}), 201)
        assert created["org_id"] == world.org_a
        listed = ids(alice.get(PATH))
        assert created["id"] in listed and {"default-rate_limit", "default-auth"} <= listed
        changed = ok(alice.patch(f"{PATH}/{created['id']}", json={"max_attempts": 1}))
        assert changed["max_attempts"] == 1
        assert alice.delete(f"{PATH}/{created['id']}").status_code == 204
        assert stored(server, created["id"]) is None


# --- the role model ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def b_chain(server, world) -> str:
    with as_key(server, world.carol) as carol:
        return ok(carol.post(PATH, json={"org_id": world.org_b, "error_type": "timeout", "chain": [FALLBACK]}), 201)["id"]


def test_another_orgs_chain_answers_404_and_is_left_out(server, world, b_chain):
    with as_key(server, world.alice) as alice:
        assert b_chain not in ids(alice.get(PATH))
        for response in (alice.get(f"{PATH}/{b_chain}"), alice.patch(f"{PATH}/{b_chain}", json={"max_attempts": 1}),
                         alice.delete(f"{PATH}/{b_chain}")):
            error = error_of(response, 404)
            assert (error["code"], error["param"]) == ("fallback_chain_not_found", "chain_id")
        error = error_of(alice.post(PATH, json={"org_id": world.org_b, "error_type": "auth", "chain": []}), 404)
        assert (error["code"], error["param"]) == ("organization_not_found", "org_id")
        assert error_of(alice.get(PATH, params={"org_id": world.org_b}), 404)["code"] == "organization_not_found"
    assert stored(server, b_chain)["max_attempts"] == 3  # untouched
    with server.admin() as system:
        assert b_chain in ids(system.get(PATH))  # the system sees every org's


def test_an_org_admin_reads_global_chains_but_only_the_system_changes_them(server, world):
    with as_key(server, world.alice) as alice:
        assert ok(alice.get(f"{PATH}/default-timeout"))["error_type"] == "timeout"
        for response in (alice.patch(f"{PATH}/default-timeout", json={"chain": [FALLBACK]}),
                         alice.delete(f"{PATH}/default-timeout")):
            assert error_of(response, 403)["code"] == "system_admin_only"
        error = error_of(alice.post(PATH, json={"error_type": "auth", "model_pattern": "openai/*", "chain": []}), 403)
        assert (error["code"], error["param"]) == ("system_admin_only", "org_id")
    assert stored(server, "default-timeout")["chain"] == "[]"


def test_the_org_filter_shows_what_applies_to_one_org(server, world, b_chain):
    with as_key(server, world.carol) as carol:
        listed = ids(carol.get(PATH, params={"org_id": world.org_b}))
    assert b_chain in listed and {f"default-{t}" for t in DEFAULT_TYPES} <= listed
    with server.admin() as system:
        assert b_chain not in ids(system.get(PATH, params={"org_id": world.org_a}))


def test_members_and_users_without_an_org_may_not(server, world, b_chain):
    with as_key(server, world.alice) as alice:
        a_chain = ok(alice.post(PATH, json={"org_id": world.org_a, "error_type": "model_not_found",
                                            "chain": [FALLBACK]}), 201)["id"]
    with as_key(server, world.bob) as bob:  # a plain member of A
        assert error_of(bob.get(PATH), 403)["code"] == "org_admin_only"
        assert error_of(bob.post(PATH, json={"org_id": world.org_a, "error_type": "auth", "chain": []}),
                        403)["code"] == "org_admin_only"
        assert error_of(bob.patch(f"{PATH}/{a_chain}", json={"max_attempts": 1}), 403)["code"] == "org_admin_only"
        assert error_of(bob.delete(f"{PATH}/{a_chain}"), 403)["code"] == "org_admin_only"
    with as_key(server, world.dave) as dave:  # in no org
        assert error_of(dave.get(PATH), 403)["code"] == "org_admin_only"
        assert error_of(dave.post(PATH, json={"org_id": world.org_b, "error_type": "auth", "chain": []}), 404)
    assert stored(server, a_chain)["max_attempts"] == 3
    with httpx.Client(base_url=server.base_url, timeout=10) as anonymous:
        assert error_of(anonymous.get(PATH), 401)["code"] == "missing_api_key"


# --- validation ----------------------------------------------------------------------------------------

BASE = {"error_type": "server_error", "model_pattern": "anthropic/*", "chain": [FALLBACK]}


@pytest.mark.parametrize("body, param, words", [
    ({**BASE, "error_type": "invalid_request"}, "error_type", "never falls back"),
    ({**BASE, "error_type": "overloaded"}, "error_type", "must be one of"),
    ({k: v for k, v in BASE.items() if k != "error_type"}, "error_type", "Missing"),
    ({k: v for k, v in BASE.items() if k != "chain"}, "chain", "Missing"),
    ({**BASE, "chain": FALLBACK}, "chain", "valid list"),
    ({**BASE, "chain": {"0": FALLBACK}}, "chain", "valid list"),
    ({**BASE, "chain": [FALLBACK, 7]}, "chain[1]", "valid string"),
    ({**BASE, "chain": [FALLBACK, "openai/gpt-9-imaginary"]}, "chain[1]", "not a model in the catalog"),
    ({**BASE, "chain": ["gpt-4o-mini"]}, "chain[0]", "not a model in the catalog"),
    ({**BASE, "chain": ["auto/fast"]}, "chain[0]", "cheapest | fastest | quality | balanced"),
    ({**BASE, "chain": ["auto/"]}, "chain[0]", "auto/<strategy>"),
    ({**BASE, "chain": [FALLBACK] * 21}, "chain", "at most 20"),
    ({**BASE, "max_attempts": 0}, "max_attempts", "greater than or equal to 1"),
    ({**BASE, "max_attempts": 11}, "max_attempts", "less than or equal to 10"),
    ({**BASE, "model_pattern": ""}, "model_pattern", "fnmatch"),
    ({**BASE, "model_pattern": "openai/ gpt"}, "model_pattern", "no spaces"),
    ({**BASE, "model_pattern": "openai/" + "x" * 200}, "model_pattern", "at most 200"),
    ({**BASE, "allow_workers_ai": "sometimes"}, "allow_workers_ai", "boolean"),
    ({**BASE, "fallbacks": []}, "fallbacks", "Extra inputs"),
    ({**BASE, "org_id": "org_doesnotexist"}, "org_id", "Unknown organization"),
])
def test_a_bad_chain_is_refused_naming_the_field(server, body, param, words):
    before = row_count(server)
    with server.admin() as system:
        error = error_of(system.post(PATH, json=body), 400)
    assert error["param"] == param and error["type"] == "invalid_request_error"
    assert words in error["message"], error["message"]
    assert row_count(server) == before


def test_codes_of_the_chain_entry_errors(server):
    with server.admin() as system:
        assert error_of(system.post(PATH, json={**BASE, "chain": ["nope/model"]}), 400)["code"] == "unknown_model"
        assert error_of(system.post(PATH, json={**BASE, "chain": ["auto/best"]}), 400)["code"] == "invalid_strategy"


@pytest.mark.parametrize("body, param", [
    ({"error_type": "invalid_request"}, "error_type"),
    ({"chain": None}, "chain"),
    ({"max_attempts": None}, "max_attempts"),
    ({"max_attempts": 42}, "max_attempts"),
    ({"chain": ["auto", "openai/nope"]}, "chain[1]"),
    ({"org_id": None}, "org_id"),  # a chain does not move between scopes
])
def test_a_bad_change_is_refused_and_changes_nothing(server, body, param):
    with server.admin() as system:
        error = error_of(system.patch(f"{PATH}/default-auth", json=body), 400)
    assert error["param"] == param
    row = stored(server, "default-auth")
    assert (row["error_type"], row["chain"], row["max_attempts"]) == ("auth", "[]", 3)


def test_a_taken_scope_is_a_409(server, world):
    with server.admin() as system:
        # the seeded default already holds (global, rate_limit, '*')
        error = error_of(system.post(PATH, json={"error_type": "rate_limit", "chain": [FALLBACK]}), 409)
        assert (error["code"], error["param"]) == ("fallback_chain_exists", "model_pattern")
        mine = ok(system.post(PATH, json={"error_type": "rate_limit", "model_pattern": "xai/*", "chain": []}), 201)
        # moving it onto a taken scope
        assert error_of(system.patch(f"{PATH}/{mine['id']}", json={"model_pattern": "*"}), 409)["code"] == \
            "fallback_chain_exists"
        # the same scope in an org is another scope
        ok(system.post(PATH, json={"org_id": world.org_b, "error_type": "rate_limit", "chain": []}), 201)
        error_of(system.post(PATH, json={"org_id": world.org_b, "error_type": "rate_limit", "chain": []}), 409)
        assert system.delete(f"{PATH}/{mine['id']}").status_code == 204
    assert server.sql("SELECT count(*) AS n FROM fallback_chains WHERE org_id IS NULL AND error_type = 'rate_limit'")[0]["n"] == 1


# --- default_strategy on keys and orgs -----------------------------------------------------------------

def test_default_strategy_must_be_one_of_the_four(server, world):
    with server.admin() as system:
        for response in (
            system.post("/admin/orgs", json={"name": "s", "slug": f"s-{uuid.uuid4().hex[:8]}", "default_strategy": "fast"}),
            system.patch(f"/admin/orgs/{world.org_a}", json={"default_strategy": "smart"}),
            system.post("/admin/keys", json={"default_strategy": "best"}),
        ):
            error = error_of(response, 400)
            assert error["param"] == "default_strategy"
            assert "cheapest | fastest | quality | balanced" in error["message"]
        assert ok(system.patch(f"/admin/orgs/{world.org_a}", json={"default_strategy": "quality"}))["default_strategy"] == "quality"
        key = ok(system.post("/admin/keys", json={"default_strategy": "cheapest"}), 201)
        assert key["default_strategy"] == "cheapest"
        assert error_of(system.patch(f"/admin/keys/{key['id']}", json={"default_strategy": "Cheapest"}), 400)["param"] == \
            "default_strategy"
        assert ok(system.patch(f"/admin/keys/{key['id']}", json={"default_strategy": None}))["default_strategy"] is None
        assert ok(system.patch(f"/admin/orgs/{world.org_a}", json={"default_strategy": None}))["default_strategy"] is None
    assert server.sql("SELECT default_strategy FROM gateway_keys WHERE id = ?", key["id"])[0]["default_strategy"] is None


# --- the isolate's ChainRules -------------------------------------------------------------------------

def test_an_admin_write_reaches_this_isolates_rules_at_once(server, world):
    """The rules are cached per isolate for CATALOG_CACHE_SECONDS (60 s here): a write behind the cache's back
    is not seen, an admin write in this isolate is seen by the very next lookup."""
    gateway = server.app.gateway
    rules = gateway.chain_rules
    assert rules_for(server.ports, gateway.settings) is rules  # what the attempt engine picks up

    def rule_for(model: str = "perplexity/sonar"):
        return select_rule(asyncio.run(rules.for_org(world.org_a)), world.org_a, "context_length", model)

    assert rule_for().id == "default-context_length"
    with as_key(server, world.alice) as alice:
        created = ok(alice.post(PATH, json={"org_id": world.org_a, "error_type": "context_length",
                                            "model_pattern": "perplexity/*", "chain": [FALLBACK]}), 201)
        assert (rule_for().id, rule_for().chain) == (created["id"], (FALLBACK,))
        server.sql("UPDATE fallback_chains SET max_attempts = 9 WHERE id = ?", created["id"])  # another isolate
        assert rule_for().max_attempts == 3  # still the cached rules
        ok(alice.patch(f"{PATH}/{created['id']}", json={"chain": ["auto/quality"]}))
        assert (rule_for().chain, rule_for().max_attempts) == (("auto/quality",), 9)  # read again
        assert alice.delete(f"{PATH}/{created['id']}").status_code == 204
        assert rule_for().id == "default-context_length"
