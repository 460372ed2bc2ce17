"""The analytics API over real sockets (docs/analytics.md).

Usage rows are seeded by INSERT through the gateway's SQLite file (`gateway.sql`), for two orgs and their
users, on days (March 2021) no other test writes, so every range below holds exactly the seeded rows. Each
expectation is computed here from the seeded rows (never from the gateway's answer): the per-principal
visible set, requests from rows with `attempt_of` NULL, failed attempts apart, cost over all rows.

Principals: alice owns org A, bob is a plain member of A, carol owns org B, dave is in no org, erin (no org)
has traffic in the last hour (provider health is relative to now).
"""

from __future__ import annotations

import csv
import io
import json
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable

import httpx
import pytest

from gateway.storage import analytics as analytics_sql
from gateway.storage.usage import USAGE_COLUMNS
from gateway.timefmt import utc_text

RANGE = {"since": "2021-03-01T00:00:00Z", "until": "2021-03-03 00:00:00"}  # both accepted forms
TRICKY_TAGS = '{"app": "chat, \\"bot\\"", "note": "line1\\nline2"}'


@dataclass(frozen=True)
class World:
    org_a: str
    org_b: str
    users: dict[str, str]  # name -> user id
    keys: dict[str, str]   # name -> raw personal key
    rows: list[dict[str, Any]]
    tags: list[tuple[str, str, str]]  # (request_id, tag_key, tag_value)
    tag: str


def client(gateway, key: str) -> httpx.Client:
    return httpx.Client(base_url=gateway.base_url, headers={"authorization": f"Bearer {key}"}, timeout=10)


def _row(tag: str, n: str, created_at: str, user: str, org: str | None, key: str, model: str, status: str,
         cost: float, latency: float | None = None, error_type: str | None = None, attempt_of: str | None = None,
         tokens: tuple[int, int] = (0, 0), tags: str | None = None) -> dict[str, Any]:
    return {"request_id": f"{tag}-{n}", "created_at": created_at, "key_id": key, "user_id": user, "org_id": org,
            "endpoint": "chat", "provider_id": model.split("/")[0], "model_id": model, "status": status,
            "error_type": error_type, "input_tokens": tokens[0], "output_tokens": tokens[1], "cost_usd": cost,
            "latency_ms": latency, "attempt_of": f"{tag}-{attempt_of}" if attempt_of else None, "tags": tags}


@pytest.fixture(scope="module")
def world(gateway) -> World:
    tag = uuid.uuid4().hex[:8]
    users, keys = {}, {}
    with gateway.admin() as system:
        for name in ("alice", "bob", "carol", "dave", "erin"):
            created = system.post("/admin/users", json={"email": f"{name}-{tag}@example.com", "name": name,
                                                        "tier_id": "business"})
            assert created.status_code == 201, created.text
            users[name] = created.json()["id"]
            keys[name] = system.post("/admin/keys", json={"user_id": users[name]}).json()["key"]
        org_a = system.post("/admin/orgs", json={"name": "A", "slug": f"a-{tag}"}).json()["id"]
        org_b = system.post("/admin/orgs", json={"name": "B", "slug": f"b-{tag}"}).json()["id"]
        for org_id, name, role in ((org_a, "alice", "owner"), (org_a, "bob", "member"), (org_b, "carol", "owner")):
            assert system.put(f"/admin/orgs/{org_id}/members/{users[name]}", json={"role": role}).status_code == 200
    u = users
    mini, claude = "openai/gpt-4o-mini", "anthropic/claude-3-5-haiku-latest"
    recent = utc_text(time.time() - 600)
    rows = [
        _row(tag, "1", "2021-03-01 10:05:00.000", u["bob"], org_a, "k-bobA", mini, "success", 0.01, 200,
             tokens=(100, 50), tags=TRICKY_TAGS),
        _row(tag, "2", "2021-03-01 10:40:00.000", u["alice"], org_a, "k-aliceA", mini, "success", 0.02, 400,
             tokens=(200, 80)),
        _row(tag, "3", "2021-03-01 11:10:00.000", u["bob"], org_a, "k-bobA", claude, "error", 0.0,
             error_type="rate_limit"),
        _row(tag, "4.1", "2021-03-01 11:20:00.000", u["bob"], org_a, "k-bobA", claude, "error", 0.0, 900,
             error_type="server_error", attempt_of="4"),
        _row(tag, "4", "2021-03-01 11:20:01.000", u["bob"], org_a, "k-bobA", mini, "success", 0.03, 600,
             tokens=(10, 5)),
        _row(tag, "5", "2021-03-02 09:00:00.000", u["carol"], org_b, "k-carolB", mini, "success", 0.5, 100,
             tokens=(1000, 500)),
        _row(tag, "6", "2021-03-02 09:30:00.000", u["carol"], org_b, "k-carolB", claude, "error", 0.0,
             error_type="timeout"),
        _row(tag, "7", "2021-03-02 12:00:00.000", u["dave"], None, "k-dave", mini, "success", 0.07, 300),
        _row(tag, "8", "2021-03-02 13:00:00.000", u["bob"], None, "k-bob", mini, "success", 0.004, 250),
        _row(tag, "9", "2021-03-03 00:00:00.000", u["bob"], org_a, "k-bobA", mini, "success", 9.0, 100),  # = until
        _row(tag, "10", recent, u["erin"], None, "k-erin", "groq/llama-3.1-8b-instant", "success", 0.001, 50),
        _row(tag, "11", recent, u["erin"], None, "k-erin", "groq/llama-3.1-8b-instant", "error", 0.0,
             error_type="server_error"),
    ]
    for row in rows:
        names = list(row)
        gateway.sql(f"INSERT INTO usage_log ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
                    *row.values())
    tags = [(f"{tag}-1", "app", "chatbot"), (f"{tag}-4", "app", "chatbot"), (f"{tag}-5", "app", "chatbot"),
            (f"{tag}-2", "app", "search"), (f"{tag}-2", "team", "core")]
    for request_id, key, value in tags:
        gateway.sql("INSERT INTO usage_tags (request_id, tag_key, tag_value) VALUES (?, ?, ?)", request_id, key, value)
    return World(org_a, org_b, users, keys, rows, tags, tag)


# --- expectations computed from the seeded rows ------------------------------------------------------

def visible(world: World, who: str) -> list[dict[str, Any]]:
    """The rule of docs/analytics.md: system all; else own rows plus the rows of orgs one owns/admins."""
    admin_orgs = {"alice": {world.org_a}, "carol": {world.org_b}}.get(who, set())
    in_range = [r for r in world.rows if "2021-03-01" <= r["created_at"] < "2021-03-03 00:00:00.000"]
    if who == "system":
        return in_range
    return [r for r in in_range if r["user_id"] == world.users[who] or r["org_id"] in admin_orgs]


def totals(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], tuple]) -> dict[tuple, dict[str, Any]]:
    out: dict[tuple, dict[str, Any]] = defaultdict(lambda: {"requests": 0, "errors": 0, "failed_attempts": 0,
                                                            "cost_usd": 0.0, "input_tokens": 0, "output_tokens": 0})
    for r in rows:
        entry = out[key(r)]
        request = r["attempt_of"] is None
        entry["requests"] += request
        entry["errors"] += request and r["status"] == "error"
        entry["failed_attempts"] += not request
        entry["cost_usd"] += r["cost_usd"]
        entry["input_tokens"] += r["input_tokens"]
        entry["output_tokens"] += r["output_tokens"]
    return dict(out)


def answered(response: httpx.Response, key_columns: tuple[str, ...]) -> dict[tuple, dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["object"] == "list"
    return {tuple(row[c] for c in key_columns): row for row in body["data"]}


def assert_totals(got: dict[tuple, dict[str, Any]], want: dict[tuple, dict[str, Any]]) -> None:
    assert set(got) == set(want)
    for k, expected in want.items():
        for name, value in expected.items():
            assert got[k][name] == pytest.approx(value), (k, name)


def as_principal(gateway, world: World, who: str) -> httpx.Client:
    return gateway.admin() if who == "system" else client(gateway, world.keys[who])


PRINCIPALS = ("system", "alice", "bob", "carol", "dave")


# --- the cost report, every group-by, for every principal --------------------------------------------

@pytest.mark.parametrize("who", PRINCIPALS)
@pytest.mark.parametrize("group_by, columns, key", [
    ("day", ("day",), lambda r: (r["created_at"][:10],)),
    ("hour", ("hour",), lambda r: (r["created_at"][:13],)),
    ("org", ("org_id",), lambda r: (r["org_id"],)),
    ("user,key", ("user_id", "key_id"), lambda r: (r["user_id"], r["key_id"])),
    ("model", ("provider_id", "model_id"), lambda r: (r["provider_id"], r["model_id"])),
    ("provider", ("provider_id",), lambda r: (r["provider_id"],)),
])
def test_cost_grouped_matches_the_seeded_rows_each_principal_may_see(gateway, world, who, group_by, columns, key):
    with as_principal(gateway, world, who) as api:
        response = api.get("/admin/analytics/cost", params={**RANGE, "group_by": group_by})
    assert_totals(answered(response, columns), totals(visible(world, who), key))
    assert response.json()["filters"] == {"since": "2021-03-01 00:00:00.000", "until": "2021-03-03 00:00:00.000",
                                          "group_by": group_by.split(",")}


def test_isolation_an_org_admin_never_sees_the_other_org_and_a_user_only_their_rows(gateway, world):
    with client(gateway, world.keys["alice"]) as alice:
        orgs = answered(alice.get("/admin/analytics/cost", params={**RANGE, "group_by": "org"}), ("org_id",))
        assert set(orgs) == {(world.org_a,)}
        # Asking for the other org by name gives nothing, not even a total.
        other = alice.get("/admin/analytics/cost", params={**RANGE, "group_by": "day", "org_id": world.org_b})
        assert other.json()["data"] == []
        ungrouped = alice.get("/admin/analytics/cost_by_org_user", params={**RANGE, "user_id": world.users["carol"]})
        assert ungrouped.json()["data"] == []
    with client(gateway, world.keys["bob"]) as bob:  # a plain member: own rows only (org A's + personal)
        users = answered(bob.get("/admin/analytics/cost", params={**RANGE, "group_by": "user"}), ("user_id",))
        assert set(users) == {(world.users["bob"],)}
        assert users[(world.users["bob"],)]["requests"] == 4  # 1, 3, 4, 8; 4.1 is an attempt, alice's 2 is not his
        assert users[(world.users["bob"],)]["cost_usd"] == pytest.approx(0.044)
    with client(gateway, world.keys["dave"]) as dave:
        for path in ("cost_by_model", "spend_per_hour", "error_patterns", "model_usage_latency", "cost_by_day"):
            data = dave.get(f"/admin/analytics/{path}", params=RANGE).json()["data"]
            assert {row.get("requests", 0) for row in data} <= {1} and len(data) <= 1, (path, data)


def test_cost_by_tag_counts_a_requests_failed_attempts_under_its_tags(gateway, world):
    tags = defaultdict(list)
    for request_id, key, value in world.tags:
        tags[request_id].append((key, value))
    for who in ("system", "alice", "carol"):
        rows = [dict(r, tag=t) for r in visible(world, who)
                for t in tags[r["attempt_of"] or r["request_id"]]]
        with as_principal(gateway, world, who) as api:
            got = answered(api.get("/admin/analytics/cost", params={**RANGE, "group_by": "tag"}),
                           ("tag_key", "tag_value"))
        assert_totals(got, totals(rows, lambda r: r["tag"]))
    with gateway.admin() as system:
        chatbot = answered(system.get("/admin/analytics/cost", params={
            **RANGE, "group_by": "org", "tag_key": "app", "tag_value": "chatbot"}), ("org_id",))
    assert chatbot[(world.org_a,)]["requests"] == 2 and chatbot[(world.org_a,)]["failed_attempts"] == 1
    assert chatbot[(world.org_a,)]["cost_usd"] == pytest.approx(0.04)
    assert chatbot[(world.org_b,)]["cost_usd"] == pytest.approx(0.5)


@pytest.mark.parametrize("params, keep", [
    ({"model": "anthropic/claude-3-5-haiku-latest"}, lambda r, w: r["model_id"].startswith("anthropic/")),
    ({"provider": "openai"}, lambda r, w: r["provider_id"] == "openai"),
    ({"key_id": "k-bobA"}, lambda r, w: r["key_id"] == "k-bobA"),
    ({"org_id": "A"}, lambda r, w: r["org_id"] == w.org_a),
    ({"user_id": "carol"}, lambda r, w: r["user_id"] == w.users["carol"]),
    ({"since": "2021-03-01 11:00:00", "until": "2021-03-02T09:15:00+00:00"},
     lambda r, w: "2021-03-01 11" <= r["created_at"] < "2021-03-02 09:15"),
    ({"tag_key": "team"}, lambda r, w: r["request_id"].endswith("-2")),
])
def test_dimension_filters(gateway, world, params, keep):
    resolved = {k: world.org_a if v == "A" else world.users.get(v, v) for k, v in params.items()}
    with gateway.admin() as system:
        got = answered(system.get("/admin/analytics/cost", params={**RANGE, **resolved, "group_by": "day"}),
                       ("day",))
    want = totals([r for r in visible(world, "system") if keep(r, world)], lambda r: (r["created_at"][:10],))
    assert want and and_ok(want)
    assert_totals(got, want)


def and_ok(want: dict) -> bool:
    return sum(v["requests"] + v["failed_attempts"] for v in want.values()) > 0


# --- one endpoint per view ---------------------------------------------------------------------------

@pytest.mark.parametrize("interval, width", [("day", 10), ("hour", 13)])
def test_cost_by_day_per_org_and_model(gateway, world, interval, width):
    with client(gateway, world.keys["alice"]) as alice:
        got = answered(alice.get("/admin/analytics/cost_by_day", params={**RANGE, "interval": interval}),
                       (interval, "org_id", "model_id"))
    assert_totals(got, totals(visible(world, "alice"),
                              lambda r: (r["created_at"][:width], r["org_id"], r["model_id"])))


def test_cost_by_model_has_display_names_and_average_cost_per_request(gateway, world):
    with gateway.admin() as system:
        got = answered(system.get("/admin/analytics/cost_by_model", params=RANGE), ("model_id",))
    want = totals(visible(world, "system"), lambda r: (r["model_id"],))
    assert_totals(got, want)
    mini = got[("openai/gpt-4o-mini",)]
    assert mini["display_name"]  # still in the catalog
    assert mini["avg_cost_usd_per_request"] == pytest.approx(want[("openai/gpt-4o-mini",)]["cost_usd"] / 6)
    assert mini["first_request_at"] == "2021-03-01 10:05:00.000" and mini["last_request_at"] == "2021-03-02 13:00:00.000"
    assert list(got)[0] == ("openai/gpt-4o-mini",)  # the most expensive first


def test_cost_by_org_user_per_month(gateway, world):
    with client(gateway, world.keys["carol"]) as carol:
        got = answered(carol.get("/admin/analytics/cost_by_org_user", params=RANGE),
                       ("month", "org_id", "user_id", "key_id"))
    assert_totals(got, totals(visible(world, "carol"),
                              lambda r: (r["created_at"][:7], r["org_id"], r["user_id"], r["key_id"])))


def test_spend_per_hour(gateway, world):
    with client(gateway, world.keys["alice"]) as alice:
        got = answered(alice.get("/admin/analytics/spend_per_hour", params=RANGE), ("hour", "org_id", "key_id"))
    want = totals(visible(world, "alice"), lambda r: (r["created_at"][:13], r["org_id"], r["key_id"]))
    assert set(got) == set(want)
    for k, expected in want.items():
        assert got[k]["cost_usd"] == pytest.approx(expected["cost_usd"])
        assert got[k]["requests"] == expected["requests"]
    assert got[("2021-03-01 11", world.org_a, "k-bobA")]["requests"] == 2  # 3 and 4, not the attempt 4.1


def test_error_patterns_count_failed_attempts_too(gateway, world):
    with gateway.admin() as system:
        got = answered(system.get("/admin/analytics/error_patterns", params=RANGE),
                       ("hour", "model_id", "error_type"))
    claude = "anthropic/claude-3-5-haiku-latest"
    assert got == {k: got[k] for k in [("2021-03-01 11", claude, "rate_limit"), ("2021-03-01 11", claude, "server_error"),
                                       ("2021-03-02 09", claude, "timeout")]}
    assert got[("2021-03-01 11", claude, "server_error")]["errors"] == 1
    assert got[("2021-03-01 11", claude, "server_error")]["failed_attempts"] == 1
    assert got[("2021-03-01 11", claude, "server_error")]["failed_requests"] == 0
    assert got[("2021-03-01 11", claude, "rate_limit")]["failed_requests"] == 1
    assert got[("2021-03-02 09", claude, "timeout")]["last_seen_at"] == "2021-03-02 09:30:00.000"
    with client(gateway, world.keys["carol"]) as carol:
        assert set(answered(carol.get("/admin/analytics/error_patterns", params=RANGE),
                            ("hour", "model_id", "error_type"))) == {("2021-03-02 09", claude, "timeout")}


def test_model_usage_latency_averages_successful_requests(gateway, world):
    with client(gateway, world.keys["bob"]) as bob:
        got = answered(bob.get("/admin/analytics/model_usage_latency", params=RANGE), ("day", "model_id"))
    mini = got[("2021-03-01", "openai/gpt-4o-mini")]
    assert (mini["requests"], mini["successes"], mini["errors"]) == (2, 2, 0)  # 1 and 4 (bob's), not alice's 2
    assert mini["avg_latency_ms"] == pytest.approx(400) and mini["max_latency_ms"] == 600
    assert mini["output_tokens_per_second"] == pytest.approx(55 * 1000 / 800)
    claude = got[("2021-03-01", "anthropic/claude-3-5-haiku-latest")]
    assert (claude["requests"], claude["errors"], claude["failed_attempts"]) == (1, 1, 1)
    assert claude["avg_latency_ms"] is None  # the failed attempt's 900 ms is no success latency
    assert set(got) == {("2021-03-01", "openai/gpt-4o-mini"), ("2021-03-01", "anthropic/claude-3-5-haiku-latest"),
                        ("2021-03-02", "openai/gpt-4o-mini")}


def test_provider_health_counts_only_the_principals_recent_traffic(gateway, world):
    with client(gateway, world.keys["erin"]) as erin:
        response = erin.get("/admin/analytics/provider_health", params={"provider": "groq"})
    groq = answered(response, ("provider_id",))[("groq",)]
    assert (groq["requests_last_hour"], groq["errors_last_hour"], groq["error_rate_last_hour"]) == (2, 1, 0.5)
    assert (groq["requests_last_day"], groq["avg_latency_ms_last_day"]) == (2, 50)
    assert groq["avg_latency_ewma_ms"] is None and groq["last_error_at"] is None  # every tenant's: system only
    with client(gateway, world.keys["dave"]) as dave:  # nothing of erin's
        rows = answered(dave.get("/admin/analytics/provider_health"), ("provider_id",))
    assert rows[("groq",)]["requests_last_day"] == 0 and ("openai",) in rows
    with gateway.admin() as system:
        total = answered(system.get("/admin/analytics/provider_health"), ("provider_id",))[("groq",)]
    assert total["requests_last_day"] >= 2


def test_provider_health_hides_another_orgs_custom_provider(gateway, world):
    custom = f"bcustom-{world.tag}"
    gateway.sql("INSERT INTO providers (id, adapter, kind, display_name, base_url, org_id) "
                "VALUES (?, 'openai_compatible', 'custom', 'B private', 'http://127.0.0.1:9', ?)", custom, world.org_b)
    gateway.sql("INSERT INTO model_health (model_id, provider_id, circuit_state) VALUES (?, ?, 'open')",
                f"{custom}/m", custom)
    try:
        def listed(api: httpx.Client) -> dict[tuple, dict[str, Any]]:
            return answered(api.get("/admin/analytics/provider_health"), ("provider_id",))

        with client(gateway, world.keys["carol"]) as carol:  # a member of B: B's own provider, circuit open
            assert listed(carol)[(custom,)]["open_circuits"] == 1
        with client(gateway, world.keys["alice"]) as alice, client(gateway, world.keys["dave"]) as dave:
            assert (custom,) not in listed(alice) and (custom,) not in listed(dave)
            assert alice.get("/admin/analytics/provider_health", params={"provider": custom}).json()["data"] == []
        with gateway.admin() as system:
            assert listed(system)[(custom,)]["models"] == 1
    finally:
        gateway.sql("DELETE FROM model_health WHERE provider_id = ?", custom)
        gateway.sql("DELETE FROM providers WHERE id = ?", custom)


# --- CSV export -------------------------------------------------------------------------------------

def test_usage_csv_has_a_header_quotes_fields_and_holds_only_visible_rows(gateway, world, monkeypatch):
    monkeypatch.setattr(analytics_sql, "CSV_PAGE", 2)  # several keyset pages for 5 rows (same process)
    with client(gateway, world.keys["alice"]) as alice:
        response = alice.get("/admin/analytics/usage.csv", params=RANGE)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.text.count("\r\n") >= 6
    table = list(csv.reader(io.StringIO(response.text, newline="")))
    assert table[0] == list(USAGE_COLUMNS)
    records = [dict(zip(table[0], line)) for line in table[1:]]
    want = sorted(visible(world, "alice"), key=lambda r: (r["created_at"], r["request_id"]))
    assert [r["request_id"] for r in records] == [r["request_id"] for r in want]
    first = records[0]
    assert json.loads(first["tags"]) == {"app": 'chat, "bot"', "note": "line1\nline2"}  # quoting round-trips
    assert float(first["cost_usd"]) == 0.01 and first["attempt_of"] == "" and first["org_id"] == world.org_a
    with client(gateway, world.keys["dave"]) as dave:
        lines = list(csv.reader(io.StringIO(dave.get("/admin/analytics/usage.csv", params={
            **RANGE, "model": "openai/gpt-4o-mini"}).text, newline="")))
    assert [line[0] for line in lines[1:]] == [f"{world.tag}-7"]


# --- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, params, field", [
    ("cost", {"since": "yesterday"}, "since"),
    ("cost", {"until": "2021-13-01"}, "until"),
    ("cost", {"since": "2021-03-02", "until": "2021-03-01"}, "until"),
    ("cost", {"group_by": "weekday"}, "group_by"),
    ("cost", {"group_by": "day,day"}, "group_by"),
    ("cost_by_day", {"interval": "week"}, "interval"),
    ("spend_per_hour", {"tag_value": "x"}, "tag_value"),
    ("usage.csv", {"since": "soon"}, "since"),
])
def test_bad_input_is_a_400_naming_the_field(gateway, world, path, params, field):
    with client(gateway, world.keys["bob"]) as bob:
        response = bob.get(f"/admin/analytics/{path}", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == field


def test_analytics_needs_an_admin_principal(gateway):
    assert httpx.get(gateway.base_url + "/admin/analytics/cost").status_code == 401
