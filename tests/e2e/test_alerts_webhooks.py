"""Webhooks as secrets, signed deliveries, refused targets and migration 0024 (docs/alerts.md), over real
sockets: the gateway under uvicorn on its SQLite file, webhook receivers on loopback (http.server threads
that keep each POST's raw bytes and headers), the cron job on a FakeClock (tests/e2e/test_alerts.py's
wiring). The signature is checked with the Python snippet of docs/alerts.md "Verifying a delivery", read
from the document and run as it is."""

from __future__ import annotations

import asyncio
import calendar
import logging
import re
import shutil
import sqlite3
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

from gateway import jobs
from gateway.core import Gateway
from gateway.ports.fakes import FakeClock
from gateway.storage.migrations import apply_migrations
from gateway.timefmt import utc_text
from scripts.run_local import build_local
from tests.conftest import GatewayServer, gateway_config
from tests.e2e.admin_world import ok
from tests.e2e.test_alerts import Receiver

ROOT = Path(__file__).resolve().parents[2]
CRON = 300
SLACK_URL = "https://hooks.slack.com/services/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"
SLACK_SECRETS = ("T0SECRET1", "B0SECRET2", "tokenTOKEN")
STRICT = {"ALERT_WEBHOOK_ALLOW_HTTP": "", "ALERT_WEBHOOK_ALLOW_PRIVATE": ""}


def documented_verifier() -> Callable[..., bool]:
    """`verify_gateway_signature` exactly as docs/alerts.md shows it to receivers."""
    text = (ROOT / "docs" / "alerts.md").read_text()
    section = text.split("## Verifying a delivery", 1)[1].split("\n## ", 1)[0]
    (code,) = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    namespace: dict = {}
    exec(compile(code, "docs/alerts.md", "exec"), namespace)  # noqa: S102 (the document's own snippet)
    return namespace["verify_gateway_signature"]


verify_gateway_signature = documented_verifier()


class Cron:
    """The scheduled jobs on a server's database with a clock the test moves (as in test_alerts.py)."""

    def __init__(self, server: GatewayServer, config: dict[str, str], start: float) -> None:
        self.clock = FakeClock(now=start)
        app, self.ports = build_local(config, server.db_path)
        self.gateway = Gateway(replace(self.ports, clock=self.clock), app.gateway.settings)
        self.loop = asyncio.new_event_loop()

    def advance(self, seconds: float = CRON) -> dict[str, str]:
        self.clock.advance(seconds)
        outcomes = self.loop.run_until_complete(jobs.run_all(self.gateway))
        assert all(outcome == "ok" for name, outcome in outcomes.items() if name != "poll_video_jobs"), outcomes
        return outcomes

    def close(self) -> None:
        self.loop.run_until_complete(self.ports.http.close())
        self.loop.close()
        self.ports.database.close()


def at(year: int, month: int, day: int, hour: int) -> float:
    return float(calendar.timegm((year, month, day, hour, 0, 0)))


def seed_spend(server: GatewayServer, usd: float, when: float) -> None:
    server.sql("INSERT INTO usage_log (request_id, created_at, endpoint, status, cost_usd, model_id, provider_id) "
               "VALUES (?, ?, 'chat', 'success', ?, 'openai/gpt-4o-mini', 'openai')",
               "req_" + uuid.uuid4().hex, utc_text(when), usd)


def database_dump(db_path: Path) -> str:
    with sqlite3.connect(db_path) as db:
        return "\n".join(db.iterdump())


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory) -> Iterator[GatewayServer]:
    running = GatewayServer(gateway_config(emulator.base_url),
                            tmp_path_factory.mktemp("webhooks") / "gateway.sqlite3").start()
    yield running
    running.stop()


# --- the URL is a secret ----------------------------------------------------------------------------------

def test_a_webhook_url_is_sealed_and_answered_masked_everywhere(server, caplog):
    caplog.set_level(logging.DEBUG)
    with server.admin() as system:
        # disabled: it must never be POSTed to (it is a public host)
        created = ok(system.post("/admin/alerts/webhooks", json={"url": SLACK_URL, "format": "slack",
                                                                 "enabled": False}), 201)
        hook_id = created["id"]
        try:
            assert created["url"] == "https://hooks.slack.com/…a1b2" and created["encryption_key_id"] == "ktest"
            secret = created["signing_secret"]
            assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", secret)
            answers = [created,
                       ok(system.get(f"/admin/alerts/webhooks/{hook_id}")),
                       *ok(system.get("/admin/alerts/webhooks"))["data"],
                       ok(system.patch(f"/admin/alerts/webhooks/{hook_id}", json={"format": "json"}))]
            other = "https://hooks.slack.com/services/T0SECRET1/B0SECRET2/otherTOKENz9y8"
            moved = ok(system.patch(f"/admin/alerts/webhooks/{hook_id}", json={"url": other}))
            answers.append(moved)
            assert moved["url"] == "https://hooks.slack.com/…z9y8" and "signing_secret" not in moved  # same secret
            for answer in answers[1:]:
                assert "signing_secret" not in answer
            shown = repr(answers) + caplog.text
            dump = database_dump(server.db_path)
            for secret_part in (*SLACK_SECRETS, "otherTOKEN"):
                assert secret_part not in shown.replace(secret, "") and secret_part not in dump
            assert secret not in dump and secret[6:] not in caplog.text
            row = server.sql("SELECT url, url_hint, encryption_key_id FROM webhooks WHERE id = ?", hook_id)[0]
            assert row == {"url": "", "url_hint": "https://hooks.slack.com/…z9y8", "encryption_key_id": "ktest"}
        finally:
            ok(system.delete(f"/admin/alerts/webhooks/{hook_id}"), 204)


def test_setting_the_url_of_a_plain_row_seals_it_with_a_new_secret_answered_once(server):
    # as stored before migration 0024; a 10-character path: no tail shown
    server.sql("INSERT INTO webhooks (id, url, enabled) VALUES ('wh_plain_patch', ?, 0)",
               "https://hooks.example.com/plain-one")
    with server.admin() as system:
        try:
            listed = ok(system.get("/admin/alerts/webhooks/wh_plain_patch"))
            assert listed["url"] == "https://hooks.example.com/…" and listed["encryption_key_id"] is None
            moved = ok(system.patch("/admin/alerts/webhooks/wh_plain_patch",
                                    json={"url": "https://hooks.example.com/sealed-now-9876"}))
            assert moved["signing_secret"].startswith("whsec_") and moved["url"] == "https://hooks.example.com/…9876"
            row = server.sql("SELECT url, encryption_key_id FROM webhooks WHERE id = 'wh_plain_patch'")[0]
            assert row == {"url": "", "encryption_key_id": "ktest"}
        finally:
            ok(system.delete("/admin/alerts/webhooks/wh_plain_patch"), 204)


def test_only_the_webhooks_admins_rotate_its_secret(server):
    tag = uuid.uuid4().hex[:8]
    with server.admin() as system:
        def owner_of_new_org(name: str) -> tuple[str, str]:
            user_id = ok(system.post("/admin/users", json={"email": f"{name}-{tag}@example.com"}), 201)["id"]
            key = ok(system.post("/admin/keys", json={"user_id": user_id}), 201)["key"]
            org_id = ok(system.post("/admin/orgs", json={"name": name, "slug": f"{name}-{tag}"}), 201)["id"]
            ok(system.put(f"/admin/orgs/{org_id}/members/{user_id}", json={"role": "owner"}))
            return org_id, key

        (org_a, key_a), (_, key_b) = owner_of_new_org("wa"), owner_of_new_org("wb")
        loner = ok(system.post("/admin/keys", json={"user_id": ok(system.post(
            "/admin/users", json={"email": f"loner-{tag}@example.com"}), 201)["id"]}), 201)["key"]
        hook = ok(system.post("/admin/alerts/webhooks", json={"org_id": org_a, "url": "https://hooks.example.com/org-a",
                                                              "enabled": False}), 201)
        try:
            path = f"/admin/alerts/webhooks/{hook['id']}/rotate-secret"
            headers = {"authorization": f"Bearer {key_b}"}
            assert ok(httpx.post(server.base_url + path, headers=headers), 404)["error"]["param"] == "webhook_id"
            headers = {"authorization": f"Bearer {loner}"}
            assert ok(httpx.post(server.base_url + path, headers=headers), 403)["error"]["code"] == "org_admin_only"
            headers = {"authorization": f"Bearer {key_a}"}
            rotated = ok(httpx.post(server.base_url + path, headers=headers))
            assert rotated["signing_secret"] != hook["signing_secret"] and rotated["org_id"] == org_a
            missing = ok(system.post("/admin/alerts/webhooks/wh_missing/rotate-secret"), 404)["error"]
            assert missing["param"] == "webhook_id"
        finally:
            ok(system.delete(f"/admin/alerts/webhooks/{hook['id']}"), 204)


# --- signed deliveries ----------------------------------------------------------------------------------

def test_deliveries_are_signed_and_the_documented_snippet_verifies_them(server, emulator):
    first, second = Receiver(path="/first"), Receiver(path="/second")
    start = at(2031, 5, 1, 10)
    cron = Cron(server, gateway_config(emulator.base_url), start)
    with server.admin() as system:
        hook = ok(system.post("/admin/alerts/webhooks", json={"url": first.url}), 201)
        secret = hook["signing_secret"]
        try:
            seed_spend(server, 1.5, start + 1)            # over $1: the spend warning fires
            cron.advance()
            (fired,) = first.posts
            header = fired["headers"]["x-gateway-signature"]
            now = cron.clock.now()
            assert re.fullmatch(rf"t={int(now)},v1=[0-9a-f]{{64}}", header)
            assert verify_gateway_signature(secret, header, fired["body"], now=now)
            assert not verify_gateway_signature(secret, header, fired["body"] + b" ", now=now)   # altered body
            assert not verify_gateway_signature("whsec_" + "A" * 43, header, fired["body"], now=now)
            assert not verify_gateway_signature(secret, header, fired["body"], now=now + 301)  # a late replay
            alert_id = httpx.Response(200, content=fired["body"]).json()["alert"]["id"]
            shown = ok(system.get(f"/admin/alerts/{alert_id}"))
            (delivery,) = [d for d in shown["deliveries"] if d["webhook_id"] == hook["id"]]
            assert fired["headers"]["x-gateway-delivery"] == str(delivery["id"])
            assert fired["headers"]["x-gateway-event"] == "fired" and delivery["status"] == "delivered"

            rotated = ok(system.post(f"/admin/alerts/webhooks/{hook['id']}/rotate-secret"))
            new_secret = rotated["signing_secret"]
            assert new_secret != secret and rotated["url"] == hook["url"]
            cron.advance(3600)                             # the spend left the window: resolved
            resolved = first.posts[1]
            assert resolved["headers"]["x-gateway-event"] == "resolved"
            now = cron.clock.now()
            assert verify_gateway_signature(new_secret, resolved["headers"]["x-gateway-signature"], resolved["body"],
                                            now=now)
            assert not verify_gateway_signature(secret, resolved["headers"]["x-gateway-signature"], resolved["body"],
                                                now=now)   # the old secret no longer signs

            moved = ok(system.patch(f"/admin/alerts/webhooks/{hook['id']}", json={"url": second.url}))
            assert "signing_secret" not in moved
            seed_spend(server, 2.0, cron.clock.now() + 1)
            cron.advance()
            (at_second,) = second.posts
            assert len(first.posts) == 2                   # the old URL hears nothing more
            assert verify_gateway_signature(new_secret, at_second["headers"]["x-gateway-signature"], at_second["body"],
                                            now=cron.clock.now())
        finally:
            ok(system.delete(f"/admin/alerts/webhooks/{hook['id']}"), 204)
            cron.advance(3600)                             # resolve what fired, with no webhook left to hear it
            cron.close()
            first.close()
            second.close()


# --- refused targets --------------------------------------------------------------------------------------

REFUSED = (
    ("http://hooks.example.com/x", "https"),
    ("https://127.0.0.1/x", "public address"),
    ("https://127.1/x", "public address"),
    ("https://169.254.169.254/latest/meta-data", "public address"),
    ("https://[::ffff:127.0.0.1]/x", "public address"),
    ("https://[::1]:8443/x", "public address"),
    ("https://10.0.0.8/x", "public address"),
    ("https://localhost/x", "loopback"),
    ("https://alerts.localhost/x", "loopback"),
    ("https://user:secret@hooks.example.com/x", "credentials"),
    ("ftp://hooks.example.com/x", "scheme"),
)


def test_a_strict_gateway_refuses_private_and_plain_targets_at_write_and_at_delivery(emulator, tmp_path):
    config = gateway_config(emulator.base_url, **STRICT)
    strict = GatewayServer(config, tmp_path / "strict.sqlite3").start()
    receiver = Receiver(path="/legacy-secret-path")
    try:
        with strict.admin() as system:
            for url, why in REFUSED:
                error = ok(system.post("/admin/alerts/webhooks", json={"url": url}), 400)["error"]
                assert (error["param"], error["type"]) == ("url", "invalid_request_error"), url
                assert why in error["message"], (url, error["message"])
            assert strict.sql("SELECT COUNT(*) AS n FROM webhooks")[0]["n"] == 0
            hook = ok(system.post("/admin/alerts/webhooks", json={"url": "https://hooks.example.com/alerts-path",
                                                                 "enabled": False}), 201)
            error = ok(system.patch(f"/admin/alerts/webhooks/{hook['id']}",
                                    json={"url": "https://192.168.0.10/x", "enabled": True}), 400)["error"]
            assert error["param"] == "url"
            unchanged = ok(system.get(f"/admin/alerts/webhooks/{hook['id']}"))
            assert unchanged["url"] == hook["url"] and unchanged["enabled"] is False  # nothing half-written
            ok(system.delete(f"/admin/alerts/webhooks/{hook['id']}"), 204)

            # A row stored before the check (plain, as before migration 0024) is refused at delivery.
            strict.sql("INSERT INTO webhooks (id, url) VALUES ('wh_legacy', ?)", receiver.url)
            start = at(2031, 6, 1, 9)
            seed_spend(strict, 1.5, start + 1)
            cron = Cron(strict, config, start)
            try:
                cron.advance()
            finally:
                cron.close()
            assert receiver.posts == []
            (alert,) = ok(system.get("/admin/alerts", params={"status": "firing"}))["data"]
            (delivery,) = ok(system.get(f"/admin/alerts/{alert['id']}"))["deliveries"]
            assert delivery["status"] == "failed" and delivery["attempts"] == 1
            assert delivery["last_error"].startswith("refused target: the scheme must be https")
            assert "legacy-secret-path" not in repr(delivery)
    finally:
        receiver.close()
        strict.stop()


def test_without_a_keyring_a_webhook_is_refused_and_nothing_written(emulator, tmp_path):
    config = gateway_config(emulator.base_url, GATEWAY_ENCRYPTION_KEY="")
    bare = GatewayServer(config, tmp_path / "bare.sqlite3").start()
    try:
        with bare.admin() as system:
            error = ok(system.post("/admin/alerts/webhooks", json={"url": "https://hooks.example.com/x"}), 500)["error"]
            assert error["code"] == "encryption_not_configured" and "GATEWAY_ENCRYPTION_KEY" in error["message"]
            assert bare.sql("SELECT COUNT(*) AS n FROM webhooks")[0]["n"] == 0
    finally:
        bare.stop()


# --- migration 0024 ---------------------------------------------------------------------------------------

def test_migration_0024_keeps_plain_rows_working_until_the_job_seals_them(emulator, tmp_path):
    """A database from before 0024 with a plain webhook row: after the upgrade it is answered masked and
    delivered (unsigned); the first cron run seals it; rotate-secret hands out its secret; then it is signed."""
    before = tmp_path / "before-0024"
    before.mkdir()
    for path in sorted((ROOT / "migrations").glob("*.sql")):
        if path.name < "0024":
            shutil.copy(path, before / path.name)
    db_path = tmp_path / "upgraded.sqlite3"
    receiver = Receiver(path="/old-plain-hook-secret")
    with sqlite3.connect(db_path) as db:
        assert "0022_alerts.sql" in apply_migrations(db, before)
        db.execute("INSERT INTO webhooks (id, url, format) VALUES ('wh_old', ?, 'json')", (receiver.url,))
    config = gateway_config(emulator.base_url)
    upgraded = GatewayServer(config, db_path).start()   # applies 0024 and later
    start = at(2031, 7, 1, 8)
    cron = Cron(upgraded, config, start)
    try:
        with upgraded.admin() as system:
            (listed,) = ok(system.get("/admin/alerts/webhooks"))["data"]
            port = receiver.url.split(":")[2].split("/")[0]
            assert listed["url"] == f"http://127.0.0.1:{port}/…cret" and listed["encryption_key_id"] is None
            seed_spend(upgraded, 1.5, start + 1)
            cron.advance()
            (fired,) = receiver.posts
            assert "x-gateway-signature" not in fired["headers"]  # no secret yet
            assert fired["headers"]["x-gateway-event"] == "fired"
            row = upgraded.sql("SELECT url, url_ciphertext, encryption_key_id, url_hint FROM webhooks")[0]
            assert row["url"] == "" and row["url_ciphertext"] and row["encryption_key_id"] == "ktest"
            assert "old-plain-hook-secret" not in database_dump(db_path)
            secret = ok(system.post("/admin/alerts/webhooks/wh_old/rotate-secret"))["signing_secret"]
            cron.advance(3600)
            resolved = receiver.posts[1]
            assert resolved["headers"]["x-gateway-event"] == "resolved"
            assert verify_gateway_signature(secret, resolved["headers"]["x-gateway-signature"], resolved["body"],
                                            now=cron.clock.now())
    finally:
        cron.close()
        receiver.close()
        upgraded.stop()
