"""Webhook deliveries with sealed URLs and signed bodies, the sealing job and retention (docs/alerts.md), on a
real SQLite with the real migrations, a fake clock and a scripted HTTP client. The cipher is the platform's:
`cryptography` on CPython, WebCrypto inside Pyodide."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sys

import pytest

from gateway import jobs
from gateway.core import Gateway
from gateway.crypto.keyring import UnreadableCredential
from gateway.pipeline import alerting
from gateway.pipeline.alerts import MAX_DELIVERY_ATTEMPTS
from gateway.pipeline.webhook_secrets import open_webhook, reseal_batch, sealed_columns
from gateway.pipeline.webhook_signing import verify
from gateway.ports import Ports, UpstreamConnectError
from gateway.ports.fakes import CollectingBackground, FakeClock, FakeHttpClient, FakeResponse
from gateway.settings import Settings
from gateway.storage import alerts as alerts_sql
from gateway.timefmt import utc_text

NOW = 1_795_000_000.0
K1 = "k1:" + base64.b64encode(bytes([1]) * 32).decode()
K2 = "k2:" + base64.b64encode(bytes([2]) * 32).decode()
SLACK_URL = "https://hooks.slack.com/services/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"
SECRET = "whsec_unit-test-secret"


@pytest.fixture
def cipher():
    if sys.platform == "emscripten":
        from gateway.ports.cloudflare import WebCryptoCipher

        return WebCryptoCipher()
    from gateway.ports.local_crypto import AesGcmCipher

    return AesGcmCipher()


def run(coro):
    return asyncio.run(coro)


def make_gateway(db, cipher, clock=None, http=None, **env) -> Gateway:
    settings = Settings.from_env({"GATEWAY_ENCRYPTION_KEY": K1, **env})
    ports = Ports(database=db, http=http or FakeHttpClient(), background=CollectingBackground(),
                  clock=clock or FakeClock(now=NOW), cipher=cipher)
    return Gateway(ports, settings)


def add_sealed(gateway: Gateway, webhook_id: str, url: str, secret: str = SECRET, fmt: str = "json") -> None:
    columns = run(sealed_columns(gateway.credentials.sealer, webhook_id, None, url, secret))
    names = ["id", "format", *columns]
    run(gateway.ports.database.query(
        f"INSERT INTO webhooks ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
        [webhook_id, fmt, *columns.values()]))


def fire_spend_warning(db) -> None:
    run(db.query("INSERT INTO usage_log (request_id, created_at, endpoint, status, cost_usd) "
                 "VALUES ('r1', ?, 'chat', 'success', 1.5)", (utc_text(NOW - 60),)))


def attempts(db) -> list[dict]:
    return run(db.query("SELECT d.webhook_id, d.status, a.attempt, a.status_code, a.error "
                        "FROM alert_delivery_attempts a "
                        "JOIN alert_deliveries d ON d.id = a.delivery_id ORDER BY a.id")).rows


def test_a_sealed_webhook_is_opened_and_its_delivery_signed(db, cipher):
    http = FakeHttpClient()
    gateway = make_gateway(db, cipher, http=http)
    add_sealed(gateway, "wh", SLACK_URL)
    stored = run(db.query("SELECT url, url_hint, encryption_key_id, url_ciphertext FROM webhooks")).rows[0]
    assert stored["url"] == "" and stored["url_hint"] == "https://hooks.slack.com/…a1b2"
    assert stored["encryption_key_id"] == "k1" and "tokenTOKEN" not in stored["url_ciphertext"]
    fire_spend_warning(db)
    http.queue(FakeResponse(204))
    report = run(alerting.run(gateway))
    assert report.delivered == 1
    (sent,) = http.sent
    assert sent["url"] == SLACK_URL
    headers = sent["headers"]
    (delivery,) = run(db.query("SELECT id, event FROM alert_deliveries")).rows
    assert headers["x-gateway-delivery"] == str(delivery["id"]) and headers["x-gateway-event"] == "fired"
    assert headers["x-gateway-signature"].startswith(f"t={int(NOW)},v1=")
    assert verify(SECRET, headers["x-gateway-signature"], sent["body"], now=NOW)
    assert not verify("whsec_other", headers["x-gateway-signature"], sent["body"], now=NOW)


def test_a_ciphertext_moved_to_another_row_does_not_open(db, cipher):
    gateway = make_gateway(db, cipher)
    add_sealed(gateway, "wh_a", SLACK_URL)
    row = run(alerts_sql.sealed_webhook(db, "wh_a"))
    with pytest.raises(UnreadableCredential):
        run(open_webhook(gateway.credentials.sealer, {**row, "id": "wh_b"}))
    swapped = {**row, "url_ciphertext": row["secret_ciphertext"], "secret_ciphertext": row["url_ciphertext"]}
    with pytest.raises(UnreadableCredential):
        run(open_webhook(gateway.credentials.sealer, swapped))


def test_an_error_naming_the_url_is_recorded_and_logged_without_it(db, cipher, caplog):
    http = FakeHttpClient()
    gateway = make_gateway(db, cipher, http=http)
    add_sealed(gateway, "wh", SLACK_URL)
    fire_spend_warning(db)
    run(alerting.evaluate(gateway, alerting.RunReport()))
    run(db.query("UPDATE alert_deliveries SET attempts = ?", (MAX_DELIVERY_ATTEMPTS - 1,)))  # the last try
    http.queue(UpstreamConnectError(f"Cannot connect to {SLACK_URL}: refused"))
    with caplog.at_level(logging.INFO, logger="gateway"):
        report = run(alerting.run(gateway))
    assert report.given_up == 1
    (attempt,) = attempts(db)
    assert attempt["status"] == "failed" and attempt["error"].startswith("UpstreamConnectError: Cannot connect to …")
    recorded = json.dumps(run(db.query("SELECT * FROM alert_deliveries")).rows) + json.dumps(attempts(db))
    logged = caplog.text
    assert "gave up" in logged and "https://hooks.slack.com/…a1b2" in logged
    for secret_part in ("T0SECRET1", "B0SECRET2", "tokenTOKEN"):
        assert secret_part not in recorded and secret_part not in logged


def test_a_stored_private_or_plain_http_target_is_refused_at_delivery_and_not_retried(db, cipher, caplog):
    http = FakeHttpClient()
    gateway = make_gateway(db, cipher, http=http)
    add_sealed(gateway, "wh_meta", "https://169.254.169.254/latest/meta-data/secret-path")
    run(db.query("INSERT INTO webhooks (id, url) VALUES ('wh_plain', 'http://hooks.example.com/plain-secret-path')"))
    fire_spend_warning(db)
    with caplog.at_level(logging.WARNING, logger="gateway"):
        report = run(alerting.run(gateway))
    assert http.sent == [] and report.given_up == 2
    by_hook = {row["webhook_id"]: row for row in attempts(db)}
    assert by_hook["wh_meta"]["status"] == "failed" and "169.254.169.254" in by_hook["wh_meta"]["error"]
    assert by_hook["wh_plain"]["error"].startswith("refused target: the scheme must be https")
    assert "secret-path" not in json.dumps(attempts(db)) and "secret-path" not in caplog.text
    # The settings that allow them let the same rows through (the test receivers' case).
    allowing = make_gateway(db, cipher, http=http, ALERT_WEBHOOK_ALLOW_HTTP="true", ALERT_WEBHOOK_ALLOW_PRIVATE="1")
    run(db.query("UPDATE alert_deliveries SET status = 'pending', attempts = 0, next_attempt_at = ?", (utc_text(NOW),)))
    http.queue(FakeResponse(200))
    http.queue(FakeResponse(200))
    assert run(alerting.run(allowing)).delivered == 2


def test_a_webhook_whose_key_left_the_keyring_is_retried_not_sent(db, cipher):
    http = FakeHttpClient()
    old = make_gateway(db, cipher, GATEWAY_ENCRYPTION_KEY=K2)
    add_sealed(old, "wh", SLACK_URL)               # sealed under k2
    gateway = make_gateway(db, cipher, http=http)  # a keyring with k1 only
    fire_spend_warning(db)
    report = run(alerting.run(gateway))
    assert http.sent == [] and report.retried == 1
    (attempt,) = attempts(db)
    assert attempt["status"] == "pending" and attempt["status_code"] is None
    assert attempt["error"] == "webhook cannot be opened: key id 'k2' is not in GATEWAY_ENCRYPTION_KEY"


def test_the_job_seals_plain_rows_and_reseals_after_a_rotation(db, cipher):
    run(db.query("INSERT INTO webhooks (id, url, format) VALUES ('wh_plain', ?, 'slack')", (SLACK_URL,)))
    gateway = make_gateway(db, cipher)
    add_sealed(gateway, "wh_k1", "https://example.com/k1-hook-path", secret="whsec_k1")
    outcome = run(reseal_batch(db, gateway.credentials.sealer, 50))
    assert outcome == {"current_key_id": "k1", "sealed": 1, "resealed": 0, "unreadable": 0, "remaining": 0}
    plain = run(alerts_sql.sealed_webhook(db, "wh_plain"))
    assert plain["url"] == "" and plain["encryption_key_id"] == "k1"
    opened = run(open_webhook(gateway.credentials.sealer, plain))
    assert opened.url == SLACK_URL and opened.secret.startswith("whsec_")
    assert SLACK_URL not in json.dumps(run(db.query("SELECT * FROM webhooks")).rows)

    rotated = make_gateway(db, cipher, GATEWAY_ENCRYPTION_KEY=f"{K2},{K1}")
    assert run(jobs.run_all(rotated))["reseal_webhooks"] == "ok"
    rows = {row["id"]: row for row in run(db.query("SELECT id, encryption_key_id FROM webhooks")).rows}
    assert {row["encryption_key_id"] for row in rows.values()} == {"k2"}
    after = run(open_webhook(rotated.credentials.sealer, run(alerts_sql.sealed_webhook(db, "wh_k1"))))
    assert (after.url, after.secret) == ("https://example.com/k1-hook-path", "whsec_k1")  # nothing lost
    dropped = make_gateway(db, cipher, GATEWAY_ENCRYPTION_KEY=K1)  # k2 dropped too early
    outcome = run(reseal_batch(db, dropped.credentials.sealer, 50))
    assert (outcome["unreadable"], outcome["remaining"]) == (2, 2)


def seed_alert(db, alert_id: str, status: str, resolved_days_ago: float | None, deliveries: int = 1) -> None:
    resolved_at = utc_text(NOW - resolved_days_ago * 86400) if resolved_days_ago is not None else None
    run(db.query("INSERT INTO alerts (id, rule_id, subject, severity, status, message, value, threshold, fired_at, "
                 "last_seen_at, resolved_at) VALUES (?, 'default-spend-warning', 'gateway', 'warning', ?, 'm', 2, 1, "
                 "?, ?, ?)", (alert_id, status, utc_text(NOW - 400 * 86400), utc_text(NOW - 400 * 86400),
                              resolved_at)))
    for _ in range(deliveries):
        result = run(db.query("INSERT INTO alert_deliveries (alert_id, webhook_id, event, status, attempts) "
                              "VALUES (?, 'wh', 'fired', 'delivered', 1) RETURNING id", (alert_id,)))
        run(db.query("INSERT INTO alert_delivery_attempts (delivery_id, attempt, status_code, attempted_at) "
                     "VALUES (?, 1, 204, ?)", (result.rows[0]["id"], utc_text(NOW - 400 * 86400))))


def test_retention_prunes_old_resolved_alerts_with_their_deliveries_in_bounded_runs(db, cipher):
    gateway = make_gateway(db, cipher, ALERT_RETENTION_DAYS="90")
    add_sealed(gateway, "wh", "https://example.com/hook-for-retention")
    for n in range(jobs.ALERTS_PRUNED_PER_RUN + 5):
        seed_alert(db, f"alt_old_{n:03d}", "resolved", 91 + n / 100, deliveries=2)
    seed_alert(db, "alt_recent", "resolved", 89)
    seed_alert(db, "alt_firing", "firing", None)   # fired 400 days ago and still firing: kept

    def left() -> tuple[int, int, int]:
        return tuple(run(db.query(f"SELECT COUNT(*) AS n FROM {table}")).rows[0]["n"]
                     for table in ("alerts", "alert_deliveries", "alert_delivery_attempts"))

    assert left() == (97, 192, 192)
    run(jobs.prune_alerts(gateway))
    assert left() == (7, 12, 12)
    oldest_left = run(db.query("SELECT id FROM alerts WHERE id LIKE 'alt_old_%' ORDER BY id")).rows
    # the oldest went first (a higher n was resolved earlier): the 5 most recent of them are left
    assert [row["id"] for row in oldest_left] == [f"alt_old_{n:03d}" for n in range(5)]
    run(jobs.prune_alerts(gateway))
    assert left() == (2, 2, 2)
    assert {row["id"] for row in run(db.query("SELECT id FROM alerts")).rows} == {"alt_recent", "alt_firing"}
    gateway.ports.clock.advance(2 * 86400)  # the recent one crosses 90 days
    run(jobs.prune_alerts(gateway))
    assert [row["id"] for row in run(db.query("SELECT id FROM alerts")).rows] == ["alt_firing"]
