"""The alerting cron step (docs/alerts.md): evaluate every enabled rule, open and resolve episodes, queue
and send webhook deliveries. Runs from the scheduled job `evaluate_alerts` (jobs.py); its per-rule step
`evaluate_rules` also serves the spend check that follows a usage write (spend_watch.py).

Each rule is measured and planned on its own: one failing rule (a bad params value, a D1 hiccup) is logged
and the others still run. Deliveries go out through the HttpClient port, one attempt per due delivery per
run, at most DELIVERIES_PER_RUN (the Worker caps subrequests per invocation).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gateway.crypto.keyring import EncryptionConfigError, UnreadableCredential
from gateway.pipeline import alerts as rules_logic
from gateway.pipeline.alerts import Reading, Rule
from gateway.pipeline.periods import utc_day, utc_month
from gateway.pipeline.webhook_secrets import OpenedWebhook, open_webhook
from gateway.pipeline.webhook_signing import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signature_header
from gateway.pipeline.webhook_targets import RefusedTarget, TargetPolicy, check_target, masked_url, scrub
from gateway.ports import Timeouts
from gateway.storage import alerts as alerts_sql
from gateway.timefmt import utc_text

if TYPE_CHECKING:
    from gateway.core import Gateway

log = logging.getLogger("gateway.alerts")

DELIVERIES_PER_RUN = 20
WEBHOOK_TIMEOUTS = Timeouts(connect=5.0, total=10.0)
LEASE_SECONDS = 120.0  # a claimed delivery is not picked up by another run meanwhile


@dataclass
class RunReport:
    fired: list[str] = field(default_factory=list)      # alert ids
    resolved: list[str] = field(default_factory=list)
    kept: int = 0
    failed_rules: list[str] = field(default_factory=list)
    delivered: int = 0
    retried: int = 0
    given_up: int = 0


async def readings_for(gateway: "Gateway", rule: Rule, now: float) -> list[Reading]:
    db = gateway.ports.database
    since, until = utc_text(now - rule.window_minutes * 60), utc_text(now)
    if rule.kind == "spend_per_hour":
        return await alerts_sql.spend_readings(db, rule, since, until)
    if rule.kind == "error_rate":
        return await alerts_sql.error_rate_readings(db, rule, since, until)
    if rule.kind == "circuit_open":
        return await alerts_sql.circuit_readings(db, rule)
    if rule.kind == "rate_limiter_fail_open":
        return await alerts_sql.fail_open_readings(db, rule, since, until)
    if rule.kind == "neuron_budget":
        return await alerts_sql.neuron_readings(db, utc_day(now), gateway.settings.workers_ai_daily_neurons)
    if rule.kind == "budget":
        return await alerts_sql.budget_readings(db, rule, utc_day(now), utc_month(now))
    raise ValueError(f"unknown alert kind {rule.kind!r}")


async def evaluate(gateway: "Gateway", report: RunReport) -> None:
    db = gateway.ports.database
    now = gateway.ports.clock.now()
    episodes = await alerts_sql.open_alerts(db)
    rules = await alerts_sql.enabled_rules(db)
    await evaluate_rules(gateway, rules, report, episodes=episodes, now=now)
    # Episodes of rules deleted or disabled since they fired: nothing watches them any more, so they resolve.
    now_text = utc_text(now)
    enabled = {row["id"] for row in rules}
    for rule_id, open_by_subject in episodes.items():
        if rule_id not in enabled:
            for alert_id in open_by_subject.values():
                await _resolve(db, alert_id, now_text, report)


async def _resolve(db, alert_id: str, now_text: str, report: RunReport) -> None:
    resolved = await alerts_sql.resolve(db, alert_id, now_text)
    if resolved is not None:  # None: a concurrent run resolved it first
        await alerts_sql.queue_deliveries(db, alert_id, resolved["org_id"], "resolved", now_text)
        report.resolved.append(alert_id)


async def deliver_due(gateway: "Gateway", report: RunReport, limit: int = DELIVERIES_PER_RUN) -> None:
    """Send each due delivery once: its webhook opened (URL and signing secret sealed in D1), its target
    checked again (a row stored before the check, or a setting changed since), the body signed. Neither the
    URL nor an exception text naming it is logged or recorded (webhook_targets.scrub)."""
    db = gateway.ports.database
    clock = gateway.ports.clock
    now = clock.now()
    now_text = utc_text(now)
    policy = TargetPolicy(allow_http=gateway.settings.alert_webhook_allow_http,
                          allow_private=gateway.settings.alert_webhook_allow_private)
    opened: dict[str, OpenedWebhook | str] = {}  # webhook id -> its URL and secret, or why it cannot open
    for due in await alerts_sql.due_deliveries(db, now_text, limit):
        if not await alerts_sql.claim(db, due["delivery_id"], due["next_attempt_at"], utc_text(now + LEASE_SECONDS)):
            continue
        if due["webhook_id"] not in opened:
            opened[due["webhook_id"]] = await _open(gateway, due)
        webhook = opened[due["webhook_id"]]
        attempt = int(due["attempts"]) + 1
        status_code, error, final = None, None, False
        started = clock.monotonic()
        if isinstance(webhook, str):
            error = webhook  # an operator can put the key back: retried like a 500
        else:
            try:
                check_target(webhook.url, policy)
            except RefusedTarget as refused:
                error, final = f"refused target: {refused}", True  # it will not change: no retry
            else:
                status_code, error = await _send(gateway, due, webhook, now, now_text)
        duration_ms = (clock.monotonic() - started) * 1000
        if error is None and not rules_logic.delivered(status_code):
            error = f"HTTP {status_code}"
        if rules_logic.delivered(status_code):
            outcome, next_at = "delivered", None
            report.delivered += 1
        elif final or attempt >= rules_logic.MAX_DELIVERY_ATTEMPTS:
            outcome, next_at = "failed", None
            report.given_up += 1
            log.warning("alert delivery %s to webhook %s (%s) gave up after %d attempts: %s", due["delivery_id"],
                        due["webhook_id"], due["url_hint"] or masked_url(due["url"]), attempt, error)
        else:
            outcome, next_at = "pending", utc_text(now + rules_logic.retry_delay(attempt))
            report.retried += 1
        await alerts_sql.record_attempt(db, due["delivery_id"], attempt, status_code, error, duration_ms, now_text,
                                        outcome, next_at)


async def _open(gateway: "Gateway", due: dict) -> OpenedWebhook | str:
    row = {"id": due["webhook_id"], "org_id": due["webhook_org_id"], "url": due["url"],
           "url_ciphertext": due["url_ciphertext"], "secret_ciphertext": due["secret_ciphertext"],
           "encryption_key_id": due["encryption_key_id"]}
    try:
        return await open_webhook(gateway.credentials.sealer, row)
    except (UnreadableCredential, EncryptionConfigError) as exc:
        log.error("webhook %s cannot be opened: %s", due["webhook_id"], exc)
        return f"webhook cannot be opened: {exc}"[:500]


async def _send(gateway: "Gateway", due: dict, webhook: OpenedWebhook, now: float,
                now_text: str) -> tuple[int | None, str | None]:
    """(HTTP status, None) or (None, the error without the URL)."""
    body = json.dumps(rules_logic.webhook_body(due["format"], due["event"], due, now_text)).encode()
    headers = {"content-type": "application/json", "user-agent": "ai-gateway-alerts",
               DELIVERY_HEADER: str(due["delivery_id"]), EVENT_HEADER: due["event"]}
    if webhook.secret is not None:  # a row not sealed yet has no secret: sent unsigned until the job seals it
        headers[SIGNATURE_HEADER] = signature_header(webhook.secret, int(now), body)
    try:
        response = await gateway.ports.http.send("POST", webhook.url, headers, body, WEBHOOK_TIMEOUTS)
        try:
            status = response.status
            await response.read()
        finally:
            response.close()
        return status, None
    except Exception as exc:  # refused, timed out, a malformed URL: recorded, and retried like a 500
        return None, scrub(f"{type(exc).__name__}: {exc}", webhook.url)[:500]


async def run(gateway: "Gateway") -> RunReport:
    report = RunReport()
    await evaluate(gateway, report)
    await deliver_due(gateway, report)
    if report.fired or report.resolved or report.delivered or report.retried or report.given_up:
        log.info("alerts: fired %d, resolved %d, delivered %d, to retry %d, given up %d", len(report.fired),
                 len(report.resolved), report.delivered, report.retried, report.given_up)
    return report


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """One rule's evaluation: what it measured, and the subjects with a firing episode afterwards."""

    readings: list[Reading]
    firing: frozenset[str]


async def evaluate_rules(gateway: "Gateway", rules: list[dict], report: RunReport, *,
                         episodes: dict[str, dict[str, str]] | None = None, now: float | None = None,
                         resolve: bool = True) -> dict[str, RuleOutcome]:
    """Measure and plan each rule row: fire (with its deliveries queued), keep, and — unless `resolve` is
    False (the request path, pipeline/spend_watch.py, leaves resolution to the cron) — resolve. The cron
    job and the request path share this, so they open the same episodes. Answers each evaluated rule's
    outcome by rule id; a rule that failed is logged, listed in the report and absent from the answer."""
    db = gateway.ports.database
    now = gateway.ports.clock.now() if now is None else now
    now_text = utc_text(now)
    if episodes is None:
        episodes = await alerts_sql.open_alerts(db)
    outcomes: dict[str, RuleOutcome] = {}
    for row in rules:
        try:
            rule = Rule.from_row(row)
            readings = await readings_for(gateway, rule, now)
            open_now = episodes.get(rule.id, {})
            decided = rules_logic.plan(rule, readings, open_now)
            firing = set(open_now)
            for reading in decided.fire:
                alert_id = "alt_" + uuid.uuid4().hex
                message = rules_logic.describe(rule.kind, reading.subject, reading.value, rule.threshold,
                                               rule.window_minutes)
                if await alerts_sql.fire(db, alert_id, rule, reading, message, now_text):
                    org_id = reading.org_id if reading.org_id is not None else rule.org_id
                    await alerts_sql.queue_deliveries(db, alert_id, org_id, "fired", now_text)
                    report.fired.append(alert_id)
                firing.add(reading.subject)  # opened now, or by a concurrent run (fire answered False)
            if decided.keep:
                await db.batch([alerts_sql.keep_statement(alert_id, reading, now_text)
                                for alert_id, reading in decided.keep])
                report.kept += len(decided.keep)
            if resolve:
                for alert_id in decided.resolve:
                    await _resolve(db, alert_id, now_text, report)
                firing -= {subject for subject, alert_id in open_now.items() if alert_id in decided.resolve}
            outcomes[rule.id] = RuleOutcome(readings, frozenset(firing))
        except Exception:  # one broken rule must not silence the others
            log.exception("alert rule %s could not be evaluated", row.get("id"))
            report.failed_rules.append(row.get("id"))
    return outcomes
