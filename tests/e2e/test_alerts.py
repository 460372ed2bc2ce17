"""Alerting over real sockets (docs/alerts.md): the cron job against the gateway's SQLite file, webhook
receivers on loopback (http.server threads: one generic JSON, one Slack-format, one answering 500), and the
admin API for rules, webhooks and alerts (CRUD, tenant isolation, 400 naming the field).

The clock: the job runs on a Gateway built over the server's database file with a FakeClock (the same
wiring as the server's, `build_local`, with only the Clock port replaced), set to a fixed hour in 2030 that
no real request of this module falls in. Usage rows are seeded at fake-clock times; `Cron.advance` moves
the clock by a cron period and runs every registered job, as the Worker's `scheduled` would five minutes
later. Webhooks are real HTTP POSTs through the gateway's aiohttp HttpClient."""

from __future__ import annotations

import asyncio
import calendar
import json
import threading
import uuid
from dataclasses import asdict, dataclass, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import httpx
import pytest

from gateway import jobs
from gateway.core import Gateway
from gateway.pipeline.alerts import retry_delay
from gateway.ports.fakes import FakeClock
from gateway.timefmt import utc_text
from scripts.run_local import build_local
from tests.conftest import GatewayServer, gateway_config
from tests.e2e.admin_world import TwoOrgs, as_key, ok, two_orgs

CRON = 300


class Receiver:
    """A webhook endpoint on loopback at `path` that keeps every POST (its path, headers and raw body) and
    answers `status`; `bodies` are the JSON bodies."""

    def __init__(self, status: int = 204, path: str = "/hook") -> None:
        self.posts: list[dict] = []
        self.status = status
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.posts.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                    "body": raw})
                self.send_response(outer.status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def bodies(self) -> list[dict]:
        return [json.loads(post["body"]) for post in self.posts]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Cron:
    """The scheduled jobs on the server's database, with a clock the test moves."""

    def __init__(self, server: GatewayServer, emulator, start: float) -> None:
        self.clock = FakeClock(now=start)
        app, self.ports = build_local(gateway_config(emulator.base_url), server.db_path)
        self.gateway = Gateway(replace(self.ports, clock=self.clock), app.gateway.settings)
        self.loop = asyncio.new_event_loop()

    def run(self) -> dict[str, str]:
        outcomes = self.loop.run_until_complete(jobs.run_all(self.gateway))
        assert outcomes["evaluate_alerts"] == "ok", outcomes
        return outcomes

    def advance(self, seconds: float = CRON) -> None:
        self.clock.advance(seconds)
        self.run()

    def close(self) -> None:
        self.loop.run_until_complete(self.ports.http.close())
        self.loop.close()
        self.ports.database.close()


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    running = GatewayServer(gateway_config(emulator.base_url),
                            tmp_path_factory.mktemp("alerts") / "gateway.sqlite3").start()
    yield running
    running.stop()


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return float(calendar.timegm((year, month, day, hour, minute, 0)))


def seed_usage(server: GatewayServer, usd: float, when: float, **columns) -> None:
    fields = {"request_id": "req_" + uuid.uuid4().hex, "created_at": utc_text(when), "endpoint": "chat",
              "status": "success", "cost_usd": usd, "model_id": "openai/gpt-4o-mini", "provider_id": "openai",
              **columns}
    server.sql(f"INSERT INTO usage_log ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",
               *fields.values())


def error_of(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    return response.json()["error"]


# --- an hour of spend: one warning, one critical, both resolve; deliveries and retries --------------------

def test_an_hour_of_spend_fires_one_warning_and_one_critical_then_resolves(server, emulator):
    generic, slack, failing = Receiver(), Receiver(), Receiver(status=500)
    hooks = []
    with server.admin() as system:
        for receiver, fmt in ((generic, "json"), (slack, "slack"), (failing, "json")):
            hooks.append(ok(system.post("/admin/alerts/webhooks", json={"url": receiver.url, "format": fmt}), 201))
    start = at(2030, 1, 1, 10)
    cron = Cron(server, emulator, start)
    try:
        # $0.50 every five minutes for an hour: the last 60 minutes hold $1.50 after the 3rd run (over $1)
        # and $5.50 after the 11th (over $5).
        for step in range(1, 13):
            seed_usage(server, 0.5, start + step * CRON - 1)
            cron.advance()
            warnings = server.sql("SELECT status FROM alerts WHERE rule_id = 'default-spend-warning'")
            criticals = server.sql("SELECT status FROM alerts WHERE rule_id = 'default-spend-critical'")
            assert len(warnings) == (1 if step >= 3 else 0), step
            assert len(criticals) == (1 if step >= 11 else 0), step
        # Then nothing: the window empties $0.50 a run; below $5 the critical resolves, at $1 the warning.
        for _ in range(12):
            cron.advance()
        rows = server.sql("SELECT rule_id, status, fired_at, resolved_at, value FROM alerts "
                          "WHERE rule_id LIKE 'default-spend-%' ORDER BY fired_at")
        assert [(r["rule_id"], r["status"]) for r in rows] == [
            ("default-spend-warning", "resolved"), ("default-spend-critical", "resolved")]
        warning, critical = rows
        assert warning["fired_at"] == utc_text(start + 3 * CRON)
        assert critical["fired_at"] == utc_text(start + 11 * CRON)
        # Row k lands 1 s before run k and is in the windows of runs k .. k+11 (the window is the last 60 min):
        # run 14 holds rows 3..12 = $5.00 (not over $5), run 22 rows 11..12 = $1.00 (not over $1).
        assert critical["resolved_at"] == utc_text(start + 14 * CRON)
        assert warning["resolved_at"] == utc_text(start + 22 * CRON)

        # The generic receiver: fired warning, fired critical, resolved critical, resolved warning, once each.
        events = [(b["event"], b["alert"]["severity"], b["alert"]["status"]) for b in generic.bodies]
        assert events == [("fired", "warning", "firing"), ("fired", "critical", "firing"),
                          ("resolved", "critical", "resolved"), ("resolved", "warning", "resolved")]
        fired_warning = generic.bodies[0]["alert"]
        assert fired_warning["kind"] == "spend_per_hour" and fired_warning["subject"] == "gateway"
        assert fired_warning["value"] == pytest.approx(1.5) and fired_warning["threshold"] == 1.0
        assert fired_warning["message"] == "Spend of gateway in the last 60 min is $1.50, over $1.00."
        # Slack: the same four events, each `{"text": ...}` only.
        assert [list(b) for b in slack.bodies] == [["text"]] * 4
        assert "[warning] FIRING spend_per_hour gateway" in slack.bodies[0]["text"]
        assert "[warning] RESOLVED" in slack.bodies[3]["text"]

        # The failing receiver: each delivery retried on later runs with backoff, every attempt recorded.
        failing_id = hooks[2]["id"]
        deliveries = server.sql("SELECT id, event, status, attempts, last_status_code FROM alert_deliveries "
                                "WHERE webhook_id = ? ORDER BY id", failing_id)
        assert len(deliveries) == 4 and all(d["status"] == "pending" and d["last_status_code"] == 500
                                            for d in deliveries)
        assert sum(d["attempts"] for d in deliveries) == len(failing.bodies)
        first = deliveries[0]
        attempts = server.sql("SELECT attempt, status_code, error, attempted_at FROM alert_delivery_attempts "
                              "WHERE delivery_id = ? ORDER BY attempt", first["id"])
        assert [a["status_code"] for a in attempts] == [500] * first["attempts"]
        assert {a["error"] for a in attempts} == {"HTTP 500"}
        # fired at run 3; retried 5, then 10 more minutes later, ... (each on the first run it is due)
        expected, moment = [], start + 3 * CRON
        for n in range(1, first["attempts"] + 1):
            expected.append(utc_text(moment))
            moment += retry_delay(n)
        assert [a["attempted_at"] for a in attempts] == expected
        assert first["attempts"] >= 4

        # The admin API shows the alert with its deliveries and attempts.
        with server.admin() as system:
            resolved = ok(system.get("/admin/alerts", params={"status": "resolved"}))["data"]
            warning_id = next(a["id"] for a in resolved if a["rule_id"] == "default-spend-warning")
            shown = ok(system.get(f"/admin/alerts/{warning_id}"))
            by_hook = {(d["webhook_id"], d["event"]): d for d in shown["deliveries"]}
            assert by_hook[(hooks[0]["id"], "fired")]["status"] == "delivered"
            assert by_hook[(hooks[0]["id"], "resolved")]["attempt_log"][0]["status_code"] == 204
            assert by_hook[(failing_id, "fired")]["attempt_log"][0]["status_code"] == 500
            firing = ok(system.get("/admin/alerts", params={"status": "firing"}))["data"]
            assert not {a["rule_id"] for a in firing} & {"default-spend-warning", "default-spend-critical"}
            assert warning_id in {a["id"] for a in ok(system.get("/admin/alerts"))["data"]}
            for hook in hooks:
                ok(system.delete(f"/admin/alerts/webhooks/{hook['id']}"), 204)
    finally:
        cron.close()
        for receiver in (generic, slack, failing):
            receiver.close()


# --- the admin API: who sees and changes what -----------------------------------------------------------

@dataclass(frozen=True)
class World(TwoOrgs):
    a_key_id: str    # bob's key scoped to org A
    b_key_id: str    # carol's key scoped to org B


@pytest.fixture(scope="module")
def world(server) -> World:
    orgs = two_orgs(server)
    with server.admin() as system:
        a_key = ok(system.post("/admin/keys", json={"org_id": orgs.org_a, "user_id": orgs.bob_id, "name": "app-a"}),
                   201)["id"]
        b_key = ok(system.post("/admin/keys", json={"org_id": orgs.org_b, "user_id": orgs.carol_id,
                                                    "name": "app-b"}), 201)["id"]
    return World(**asdict(orgs), a_key_id=a_key, b_key_id=b_key)


def rule_ids(response: httpx.Response) -> set[str]:
    return {row["id"] for row in ok(response)["data"]}


def test_rules_crud_for_the_system(server):
    with server.admin() as system:
        seeded = rule_ids(system.get("/admin/alerts/rules"))
        assert {"default-spend-warning", "default-spend-critical", "default-rate-limiter-fail-open",
                "default-budget-80", "default-neuron-budget-100", "default-circuit-open"} <= seeded
        made = ok(system.post("/admin/alerts/rules", json={
            "kind": "error_rate", "severity": "critical", "threshold": 0.25, "window_minutes": 10,
            "params": {"by": "model", "min_requests": 5, "provider": "groq"}}), 201)
        assert made["org_id"] is None and made["params"] == {"by": "model", "min_requests": 5, "provider": "groq"}
        assert made["enabled"] is True and made["object"] == "alert_rule"
        changed = ok(system.patch(f"/admin/alerts/rules/{made['id']}", json={"threshold": 0.4, "enabled": False}))
        assert changed["threshold"] == 0.4 and changed["enabled"] is False and changed["severity"] == "critical"
        assert ok(system.get(f"/admin/alerts/rules/{made['id']}"))["threshold"] == 0.4
        ok(system.delete(f"/admin/alerts/rules/{made['id']}"), 204)
        assert error_of(system.get(f"/admin/alerts/rules/{made['id']}"), 404)["code"] == "alert_rule_not_found"


@pytest.mark.parametrize("body, param", [
    ({"kind": "latency", "threshold": 1}, "kind"),
    ({"kind": "spend_per_hour"}, "threshold"),
    ({"kind": "spend_per_hour", "threshold": -1}, "threshold"),
    ({"kind": "spend_per_hour", "threshold": 1, "severity": "page"}, "severity"),
    ({"kind": "spend_per_hour", "threshold": 1, "window_minutes": 0}, "window_minutes"),
    ({"kind": "spend_per_hour", "threshold": 1, "colour": "red"}, "colour"),
    ({"kind": "error_rate", "threshold": 2}, "threshold"),
    ({"kind": "error_rate", "threshold": 0.5, "params": {"by": "region"}}, "params.by"),
    ({"kind": "budget", "threshold": 80, "params": {"provider": "openai"}}, "params.provider"),
    ({"kind": "budget", "threshold": 0}, "threshold"),
])
def test_a_bad_rule_is_refused_naming_the_field_and_nothing_is_written(server, body, param):
    before = server.sql("SELECT COUNT(*) AS n FROM alert_rules")[0]["n"]
    with server.admin() as system:
        assert error_of(system.post("/admin/alerts/rules", json=body), 400)["param"] == param
    assert server.sql("SELECT COUNT(*) AS n FROM alert_rules")[0]["n"] == before


def test_a_gateway_wide_kind_takes_no_org(server, world):
    with server.admin() as system:
        error = error_of(system.post("/admin/alerts/rules", json={
            "kind": "circuit_open", "threshold": 1, "org_id": world.org_a}), 400)
        assert error["param"] == "org_id"
        error = error_of(system.post("/admin/alerts/rules", json={
            "kind": "neuron_budget", "threshold": 80, "key_id": world.a_key_id}), 400)
        assert error["param"] == "key_id"
        patch = error_of(system.patch("/admin/alerts/rules/default-spend-warning", json={"threshold": -2}), 400)
        assert patch["param"] == "threshold"


def test_org_admins_manage_their_orgs_rules_only(server, world):
    with as_key(server, world.alice) as alice, as_key(server, world.carol) as carol:
        mine = ok(alice.post("/admin/alerts/rules", json={
            "kind": "spend_per_hour", "threshold": 2, "org_id": world.org_a}), 201)
        keyed = ok(alice.post("/admin/alerts/rules", json={
            "kind": "budget", "threshold": 90, "key_id": world.a_key_id}), 201)
        assert keyed["org_id"] == world.org_a and keyed["key_id"] == world.a_key_id
        visible = rule_ids(alice.get("/admin/alerts/rules"))
        assert {mine["id"], keyed["id"], "default-spend-warning"} <= visible
        assert mine["id"] not in rule_ids(carol.get("/admin/alerts/rules"))
        assert error_of(carol.get(f"/admin/alerts/rules/{mine['id']}"), 404)["param"] == "rule_id"
        assert error_of(carol.patch(f"/admin/alerts/rules/{mine['id']}", json={"threshold": 9}), 404)
        assert error_of(carol.delete(f"/admin/alerts/rules/{mine['id']}"), 404)
        # a global rule: readable, not changeable; no global rule of their own; not another org's key
        assert ok(alice.get("/admin/alerts/rules/default-spend-warning"))["threshold"] == 1.0
        assert error_of(alice.patch("/admin/alerts/rules/default-spend-warning", json={"threshold": 100}),
                        403)["code"] == "system_admin_only"
        assert error_of(alice.post("/admin/alerts/rules", json={"kind": "spend_per_hour", "threshold": 1}),
                        403)["param"] == "org_id"
        assert error_of(alice.post("/admin/alerts/rules", json={
            "kind": "spend_per_hour", "threshold": 1, "org_id": world.org_b}), 404)["param"] == "org_id"
        assert error_of(alice.post("/admin/alerts/rules", json={
            "kind": "budget", "threshold": 80, "key_id": world.b_key_id}), 404)["param"] == "key_id"
        ok(alice.delete(f"/admin/alerts/rules/{keyed['id']}"), 204)
    with as_key(server, world.bob) as bob, as_key(server, world.dave) as dave:
        assert error_of(bob.get("/admin/alerts/rules"), 403)["code"] == "org_admin_only"
        assert error_of(dave.get("/admin/alerts"), 403)["code"] == "org_admin_only"
    with server.admin() as system:
        assert ok(system.get("/admin/alerts/rules/default-spend-warning"))["threshold"] == 1.0  # unchanged


def test_webhooks_crud_isolation_and_validation(server, world):
    with as_key(server, world.alice) as alice, as_key(server, world.carol) as carol, server.admin() as system:
        hook = ok(alice.post("/admin/alerts/webhooks", json={
            "org_id": world.org_a, "url": "https://hooks.example.com/a", "format": "slack"}), 201)
        assert hook["format"] == "slack" and hook["enabled"] is True
        assert error_of(alice.post("/admin/alerts/webhooks", json={"url": "https://hooks.example.com/g"}),
                        403)["code"] == "system_admin_only"
        before = server.sql("SELECT COUNT(*) AS n FROM webhooks")[0]["n"]
        for body, param in (({"org_id": world.org_a, "url": "ftp://hooks.example.com"}, "url"),
                            ({"org_id": world.org_a, "url": "https:///nohost"}, "url"),
                            ({"org_id": world.org_a, "url": "https://x.example", "format": "xml"}, "format"),
                            ({"org_id": world.org_a}, "url")):
            assert error_of(alice.post("/admin/alerts/webhooks", json=body), 400)["param"] == param
        assert server.sql("SELECT COUNT(*) AS n FROM webhooks")[0]["n"] == before
        global_hook = ok(system.post("/admin/alerts/webhooks", json={"url": "https://ops.example.com/x"}), 201)
        listed = {row["id"] for row in ok(alice.get("/admin/alerts/webhooks"))["data"]}
        assert hook["id"] in listed and global_hook["id"] not in listed  # a global URL is the system's
        assert hook["id"] not in {row["id"] for row in ok(carol.get("/admin/alerts/webhooks"))["data"]}
        assert error_of(carol.patch(f"/admin/alerts/webhooks/{hook['id']}", json={"enabled": False}), 404)
        assert error_of(alice.delete(f"/admin/alerts/webhooks/{global_hook['id']}"), 404)
        changed = ok(alice.patch(f"/admin/alerts/webhooks/{hook['id']}", json={"format": "json", "enabled": False}))
        assert changed["format"] == "json" and changed["enabled"] is False
        assert error_of(alice.patch(f"/admin/alerts/webhooks/{hook['id']}", json={"url": None}), 400)["param"] == "url"
        ok(alice.delete(f"/admin/alerts/webhooks/{hook['id']}"), 204)
        ok(system.delete(f"/admin/alerts/webhooks/{global_hook['id']}"), 204)


def test_each_org_sees_and_hears_only_its_own_alerts(server, emulator, world):
    receiver_a, receiver_b = Receiver(), Receiver()
    start = at(2030, 3, 1, 12)
    with as_key(server, world.alice) as alice, as_key(server, world.carol) as carol, server.admin() as system:
        rule_a = ok(alice.post("/admin/alerts/rules", json={
            "kind": "spend_per_hour", "threshold": 0.1, "org_id": world.org_a, "severity": "critical"}), 201)
        rule_b = ok(carol.post("/admin/alerts/rules", json={
            "kind": "spend_per_hour", "threshold": 0.1, "org_id": world.org_b}), 201)
        hook_a = ok(alice.post("/admin/alerts/webhooks", json={"org_id": world.org_a, "url": receiver_a.url}), 201)
        hook_b = ok(carol.post("/admin/alerts/webhooks", json={"org_id": world.org_b, "url": receiver_b.url}), 201)
        seed_usage(server, 0.3, start - 60, org_id=world.org_a, key_id=world.a_key_id)
        seed_usage(server, 0.2, start - 60, org_id=world.org_b, key_id=world.b_key_id)
        cron = Cron(server, emulator, start)
        try:
            cron.run()
        finally:
            cron.close()
        try:
            seen_a = ok(alice.get("/admin/alerts", params={"status": "firing"}))["data"]
            seen_b = ok(carol.get("/admin/alerts"))["data"]
            assert [(a["rule_id"], a["subject"], a["org_id"]) for a in seen_a] == [
                (rule_a["id"], f"org:{world.org_a}", world.org_a)]
            assert [a["rule_id"] for a in seen_b] == [rule_b["id"]]
            assert seen_a[0]["value"] == pytest.approx(0.3) and seen_a[0]["severity"] == "critical"
            everything = {a["rule_id"] for a in ok(system.get("/admin/alerts"))["data"]}
            assert {rule_a["id"], rule_b["id"]} <= everything
            assert error_of(alice.get(f"/admin/alerts/{seen_b[0]['id']}"), 404)["param"] == "alert_id"
            assert ok(alice.get("/admin/alerts", params={"status": "resolved"}))["data"] == []
            assert error_of(alice.get("/admin/alerts", params={"status": "open"}), 400)["param"] == "status"
            # each org's webhook heard its own alert only
            assert [b["alert"]["rule_id"] for b in receiver_a.bodies] == [rule_a["id"]]
            assert [b["alert"]["rule_id"] for b in receiver_b.bodies] == [rule_b["id"]]
        finally:
            for key, hook, rule in ((alice, hook_a, rule_a), (carol, hook_b, rule_b)):
                ok(key.delete(f"/admin/alerts/webhooks/{hook['id']}"), 204)
                ok(key.delete(f"/admin/alerts/rules/{rule['id']}"), 204)
            receiver_a.close()
            receiver_b.close()
