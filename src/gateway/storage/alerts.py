"""Alerting's SQL (docs/alerts.md): what each rule kind measures, the alert episodes, webhooks and deliveries.

Every time comes from the caller (the Clock port, as UTC text), never from SQLite's 'now', so the evaluator
sees the same moment in D1, on the local runner and in tests with a fake clock.
"""

from __future__ import annotations

from typing import Any, Sequence

from gateway.pipeline.alerts import Reading, Rule
from gateway.ports import Database, Statement

RULE_COLUMNS = "id, org_id, key_id, kind, severity, threshold, window_minutes, params, enabled, created_at, updated_at"
# What the admin API reads of a webhook: never the ciphertexts (the plain `url` only of a row not sealed yet,
# which the answer masks: api/admin/alerts.py).
WEBHOOK_COLUMNS = "id, org_id, url, url_hint, encryption_key_id, format, enabled, created_at"
# What opening a webhook needs (pipeline/webhook_secrets.py).
SEALED_WEBHOOK_COLUMNS = "id, org_id, url, url_ciphertext, secret_ciphertext, encryption_key_id"
ALERT_COLUMNS = ("a.id, a.rule_id, r.kind, a.org_id, a.subject, a.severity, a.status, a.message, a.value, a.threshold, "
                 "a.fired_at, a.last_seen_at, a.resolved_at")
# The caller's own mistakes say nothing about a provider or model (the same split as pipeline/health.py).
CALLER_ERRORS = ("invalid_request", "context_length", "content_filter")


def _scope(rule: Rule, org_column: str = "org_id", key_column: str = "key_id") -> tuple[str, list[Any]]:
    clauses, params = [], []
    if rule.org_id is not None:
        clauses.append(f"{org_column} = ?")
        params.append(rule.org_id)
    if rule.key_id is not None:
        clauses.append(f"{key_column} = ?")
        params.append(rule.key_id)
    return "".join(f" AND {clause}" for clause in clauses), params


def _scope_subject(rule: Rule) -> str:
    return f"key:{rule.key_id}" if rule.key_id else f"org:{rule.org_id}" if rule.org_id else "gateway"


# --- readings per kind ----------------------------------------------------------------------------

async def spend_readings(db: Database, rule: Rule, since: str, until: str) -> list[Reading]:
    """USD of every usage row (failed attempts included: what they cost was spent) in the window."""
    where, params = _scope(rule)
    result = await db.query(
        f"SELECT TOTAL(cost_usd) AS spent FROM usage_log WHERE created_at >= ? AND created_at <= ?{where}",
        [since, until, *params])
    return [Reading(_scope_subject(rule), float(result.rows[0]["spent"]), rule.org_id)]


async def error_rate_readings(db: Database, rule: Rule, since: str, until: str) -> list[Reading]:
    """Per provider or model: the share of usage rows that failed. A failed attempt (attempt_of set) is a row
    of the model that failed, so it counts there; the caller's own errors count as requests, not failures."""
    column = "provider_id" if rule.params.get("by") == "provider" else "model_id"
    where, params = _scope(rule)
    for name in ("provider", "model"):
        if rule.params.get(name):
            where += f" AND {name}_id = ?"
            params.append(rule.params[name])
    caller_errors = ", ".join("?" for _ in CALLER_ERRORS)
    result = await db.query(
        f"SELECT {column} AS name, COUNT(*) AS requests, "
        f"SUM(status = 'error' AND COALESCE(error_type, '') NOT IN ({caller_errors})) AS errors "
        f"FROM usage_log WHERE created_at >= ? AND created_at <= ? AND {column} IS NOT NULL{where} GROUP BY {column}",
        [*CALLER_ERRORS, since, until, *params])
    prefix = "provider" if column == "provider_id" else "model"
    return [Reading(f"{prefix}:{row['name']}", int(row["errors"] or 0) / int(row["requests"]), rule.org_id,
                    samples=int(row["requests"])) for row in result.rows]


async def circuit_readings(db: Database, rule: Rule) -> list[Reading]:
    result = await db.query(
        "SELECT model_id FROM model_health WHERE circuit_state = 'open'"
        + (" AND provider_id = ?" if rule.params.get("provider") else "") + " ORDER BY model_id",
        [rule.params["provider"]] if rule.params.get("provider") else [])
    return [Reading(f"model:{row['model_id']}", 1.0) for row in result.rows]


async def fail_open_readings(db: Database, rule: Rule, since: str, until: str) -> list[Reading]:
    result = await db.query(
        "SELECT COUNT(*) AS events FROM gateway_events WHERE kind = 'rate_limiter_fail_open' "
        "AND created_at >= ? AND created_at <= ?", (since, until))
    return [Reading("gateway", float(result.rows[0]["events"]))]


async def neuron_readings(db: Database, day: str, daily_neurons: float) -> list[Reading]:
    result = await db.query("SELECT TOTAL(neurons) AS used FROM neuron_usage WHERE day = ?", (day,))
    used = float(result.rows[0]["used"])
    return [Reading("workers-ai-neurons", 100.0 * used / daily_neurons if daily_neurons > 0 else 0.0)]


# One SELECT per owner kind and period; a budget of 0 refuses everything and has no percentage.
_BUDGET_SOURCES = (
    ("key", "gateway_keys", "daily", "k.org_id", "AND k.status = 'active'"),
    ("key", "gateway_keys", "monthly", "k.org_id", "AND k.status = 'active'"),
    ("user", "users", "daily", "NULL", ""),
    ("user", "users", "monthly", "NULL", ""),
    ("org", "organizations", "daily", "k.id", ""),
    ("org", "organizations", "monthly", "k.id", ""),
)


async def budget_readings(db: Database, rule: Rule, day: str, month: str) -> list[Reading]:
    """Every budget set on a key, user or org (in the rule's scope): percent of it spent this day / month
    (spend_counters, the numbers the request path refuses on). One statement per owner kind and period, in
    one batch (D1 refuses a compound SELECT of that many terms)."""
    statements = []
    for owner, table, period, org_expr, extra in _BUDGET_SOURCES:
        if rule.key_id is not None and owner != "key":
            continue
        if rule.org_id is not None and owner == "user":
            continue  # a user's budget spans every org: no one org's rule watches it
        scope, scope_params = "", []
        if rule.key_id is not None:
            scope, scope_params = " AND k.id = ?", [rule.key_id]
        elif rule.org_id is not None:
            scope, scope_params = f" AND {org_expr} = ?", [rule.org_id]
        statements.append(Statement(
            f"SELECT '{owner}:' || k.id || '/{period}' AS subject, {org_expr} AS org_id, k.{period}_budget_usd AS budget, "
            f"COALESCE(s.spent_usd, 0) AS spent FROM {table} k LEFT JOIN spend_counters s "
            f"ON s.subject = '{owner}:' || k.id AND s.period = ? WHERE k.{period}_budget_usd > 0 {extra}{scope}",
            (day if period == "daily" else month, *scope_params)))
    results = await db.batch(statements) if statements else []
    return [Reading(row["subject"], 100.0 * float(row["spent"]) / float(row["budget"]), row["org_id"])
            for result in results for row in result.rows]


# --- rules and episodes ---------------------------------------------------------------------------

async def enabled_rules(db: Database) -> list[dict[str, Any]]:
    result = await db.query(f"SELECT {RULE_COLUMNS} FROM alert_rules WHERE enabled = 1 ORDER BY id")
    return result.rows


async def open_alerts(db: Database) -> dict[str, dict[str, str]]:
    """rule id -> {subject: firing alert id}."""
    result = await db.query("SELECT id, rule_id, subject FROM alerts WHERE status = 'firing'")
    found: dict[str, dict[str, str]] = {}
    for row in result.rows:
        found.setdefault(row["rule_id"], {})[row["subject"]] = row["id"]
    return found


async def fire(db: Database, alert_id: str, rule: Rule, reading: Reading, message: str, now: str) -> bool:
    """A new episode; False when a concurrent run already opened one for the rule and subject (the partial
    unique index idx_alerts_one_firing)."""
    result = await db.query(
        "INSERT INTO alerts (id, rule_id, org_id, subject, severity, status, message, value, threshold, fired_at, "
        "last_seen_at) VALUES (?, ?, ?, ?, ?, 'firing', ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
        (alert_id, rule.id, reading.org_id if reading.org_id is not None else rule.org_id, reading.subject,
         rule.severity, message, reading.value, rule.threshold, now, now))
    return bool(result.rows)


def keep_statement(alert_id: str, reading: Reading, now: str) -> Statement:
    return Statement("UPDATE alerts SET value = ?, last_seen_at = ? WHERE id = ? AND status = 'firing'",
                     (reading.value, now, alert_id))


async def resolve(db: Database, alert_id: str, now: str) -> dict[str, Any] | None:
    """The resolved alert's {id, org_id}; None when it was not firing (a concurrent run resolved it)."""
    result = await db.query(
        "UPDATE alerts SET status = 'resolved', resolved_at = ? WHERE id = ? AND status = 'firing' "
        "RETURNING id, org_id", (now, alert_id))
    return result.rows[0] if result.rows else None


async def queue_deliveries(db: Database, alert_id: str, org_id: str | None, event: str, now: str) -> int:
    """One pending delivery per enabled webhook that hears this alert: the global ones, and its org's."""
    result = await db.query(
        "INSERT INTO alert_deliveries (alert_id, webhook_id, event, status, next_attempt_at, created_at) "
        "SELECT ?, id, ?, 'pending', ?, ? FROM webhooks WHERE enabled = 1 AND (org_id IS NULL OR org_id = ?)",
        (alert_id, event, now, now, org_id))
    return result.changes


# --- deliveries ---------------------------------------------------------------------------------

async def due_deliveries(db: Database, now: str, limit: int) -> list[dict[str, Any]]:
    """Pending deliveries whose time has come, oldest first, with their webhook and alert."""
    result = await db.query(
        f"SELECT d.id AS delivery_id, d.event, d.attempts, d.next_attempt_at, w.id AS webhook_id, "
        "w.org_id AS webhook_org_id, w.url, w.url_ciphertext, w.secret_ciphertext, w.encryption_key_id, w.url_hint, "
        f"w.format, {ALERT_COLUMNS} "
        "FROM alert_deliveries d JOIN webhooks w ON w.id = d.webhook_id JOIN alerts a ON a.id = d.alert_id "
        "JOIN alert_rules r ON r.id = a.rule_id "
        "WHERE d.status = 'pending' AND d.next_attempt_at <= ? ORDER BY d.next_attempt_at, d.id LIMIT ?",
        (now, limit))
    return result.rows


async def claim(db: Database, delivery_id: int, seen_next_attempt_at: str, lease_until: str) -> bool:
    """Take the delivery for this run: a concurrent run that read it too finds it moved and skips it."""
    result = await db.query(
        "UPDATE alert_deliveries SET next_attempt_at = ? WHERE id = ? AND status = 'pending' AND next_attempt_at = ?",
        (lease_until, delivery_id, seen_next_attempt_at))
    return result.changes > 0


async def record_attempt(db: Database, delivery_id: int, attempt: int, status_code: int | None, error: str | None,
                         duration_ms: float, now: str, outcome: str, next_attempt_at: str | None) -> None:
    """The attempt's row and the delivery's new state, in one batch."""
    await db.batch([
        Statement("INSERT INTO alert_delivery_attempts (delivery_id, attempt, status_code, error, duration_ms, "
                  "attempted_at) VALUES (?, ?, ?, ?, ?, ?)",
                  (delivery_id, attempt, status_code, error, duration_ms, now)),
        Statement("UPDATE alert_deliveries SET status = ?, attempts = ?, last_status_code = ?, last_error = ?, "
                  "next_attempt_at = ?, delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END "
                  "WHERE id = ?",
                  (outcome, attempt, status_code, error, next_attempt_at, outcome, now, delivery_id)),
    ])


async def deliveries_of(db: Database, alert_ids: Sequence[str]) -> list[dict[str, Any]]:
    if not alert_ids:
        return []
    result = await db.query(
        "SELECT d.id, d.alert_id, d.webhook_id, d.event, d.status, d.attempts, d.last_status_code, d.last_error, "
        "d.next_attempt_at, d.delivered_at, d.created_at FROM alert_deliveries d "
        f"WHERE d.alert_id IN ({', '.join('?' for _ in alert_ids)}) ORDER BY d.id", list(alert_ids))
    return result.rows


async def attempts_of(db: Database, delivery_ids: Sequence[int]) -> list[dict[str, Any]]:
    if not delivery_ids:
        return []
    result = await db.query(
        "SELECT delivery_id, attempt, status_code, error, duration_ms, attempted_at FROM alert_delivery_attempts "
        f"WHERE delivery_id IN ({', '.join('?' for _ in delivery_ids)}) ORDER BY delivery_id, attempt",
        list(delivery_ids))
    return result.rows


# --- the admin API's rows -------------------------------------------------------------------------

_NOW = "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _visible(everything: bool, org_ids: tuple[str, ...], column: str, with_global: bool) -> tuple[str, list[Any]]:
    """A WHERE clause: every row (everything), else `org_ids`' rows (and the global ones when asked)."""
    if everything:
        return "1", []
    marks = ", ".join("?" for _ in org_ids)
    clauses = [f"{column} IN ({marks})"] if org_ids else []
    if with_global:
        clauses.append(f"{column} IS NULL")
    return "(" + (" OR ".join(clauses) or "0") + ")", list(org_ids)


async def list_rules(db: Database, *, everything: bool, org_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    where, params = _visible(everything, org_ids, "org_id", with_global=True)
    result = await db.query(
        f"SELECT {RULE_COLUMNS} FROM alert_rules WHERE {where} ORDER BY org_id IS NOT NULL, org_id, kind, id", params)
    return result.rows


async def get_row(db: Database, table: str, columns: str, row_id: Any) -> dict[str, Any] | None:
    result = await db.query(f"SELECT {columns} FROM {table} WHERE id = ?", (row_id,))
    return result.rows[0] if result.rows else None


async def insert_row(db: Database, table: str, columns: str, fields: dict[str, Any]) -> dict[str, Any]:
    names = list(fields)
    result = await db.query(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)}) RETURNING {columns}",
        list(fields.values()))
    return result.rows[0]


async def update_row(db: Database, table: str, columns: str, row_id: str, fields: dict[str, Any],
                     touch: bool) -> dict[str, Any] | None:
    assignments = ", ".join([f"{name} = ?" for name in fields] + ([f"updated_at = {_NOW}"] if touch else []))
    result = await db.query(f"UPDATE {table} SET {assignments} WHERE id = ? RETURNING {columns}",
                            [*fields.values(), row_id])
    return result.rows[0] if result.rows else None


async def delete_row(db: Database, table: str, row_id: str) -> None:
    await db.query(f"DELETE FROM {table} WHERE id = ?", (row_id,))


async def list_webhooks(db: Database, *, everything: bool, org_ids: tuple[str, ...]) -> list[dict[str, Any]]:
    where, params = _visible(everything, org_ids, "org_id", with_global=False)
    result = await db.query(
        f"SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE {where} ORDER BY org_id IS NOT NULL, org_id, created_at, id",
        params)
    return result.rows


async def list_alerts(db: Database, *, everything: bool, org_ids: tuple[str, ...], status: str | None,
                      limit: int) -> list[dict[str, Any]]:
    """Newest first: every alert (everything), else those of `org_ids`."""
    where, params = _visible(everything, org_ids, "a.org_id", with_global=False)
    if status is not None:
        where += " AND a.status = ?"
        params.append(status)
    result = await db.query(
        f"SELECT {ALERT_COLUMNS} FROM alerts a JOIN alert_rules r ON r.id = a.rule_id WHERE {where} "
        "ORDER BY a.fired_at DESC, a.id LIMIT ?", [*params, limit])
    return result.rows


async def get_alert(db: Database, alert_id: str) -> dict[str, Any] | None:
    result = await db.query(
        f"SELECT {ALERT_COLUMNS} FROM alerts a JOIN alert_rules r ON r.id = a.rule_id WHERE a.id = ?", (alert_id,))
    return result.rows[0] if result.rows else None


# --- sealing webhooks (pipeline/webhook_secrets.py) and retention -----------------------------------

_TO_SEAL = "url_ciphertext IS NULL OR encryption_key_id IS NOT ?"


async def webhooks_to_seal(db: Database, current_key_id: str, limit: int) -> list[dict[str, Any]]:
    """Rows still in plain text (written before migration 0024) or sealed under another key id."""
    result = await db.query(f"SELECT {SEALED_WEBHOOK_COLUMNS} FROM webhooks WHERE {_TO_SEAL} ORDER BY id LIMIT ?",
                            (current_key_id, limit))
    return result.rows


async def count_webhooks_to_seal(db: Database, current_key_id: str) -> int:
    result = await db.query(f"SELECT COUNT(*) AS n FROM webhooks WHERE {_TO_SEAL}", (current_key_id,))
    return int(result.rows[0]["n"])


async def reseal_webhook(db: Database, webhook_id: str, seen_key_id: str | None, columns: dict[str, Any]) -> bool:
    """Write the sealed columns if the row is still under the key it was read with (a concurrent PATCH that
    sealed a new URL is never overwritten)."""
    assignments = ", ".join(f"{name} = ?" for name in columns)
    result = await db.query(f"UPDATE webhooks SET {assignments} WHERE id = ? AND encryption_key_id IS ?",
                            [*columns.values(), webhook_id, seen_key_id])
    return result.changes > 0


async def sealed_webhook(db: Database, webhook_id: str) -> dict[str, Any] | None:
    return await get_row(db, "webhooks", SEALED_WEBHOOK_COLUMNS, webhook_id)


async def prune_resolved(db: Database, cutoff: str, limit: int) -> int:
    """Delete up to `limit` alerts resolved before `cutoff`, oldest first, with their deliveries and the
    deliveries' attempts — explicitly, children first, in one batch (atomic on D1 and locally), so it holds
    whether or not the connection enforces the foreign keys' ON DELETE CASCADE. Answers how many alerts went."""
    result = await db.query("SELECT id FROM alerts WHERE status = 'resolved' AND resolved_at < ? "
                            "ORDER BY resolved_at, id LIMIT ?", (cutoff, limit))
    ids = [row["id"] for row in result.rows]
    if not ids:
        return 0
    marks = ", ".join("?" for _ in ids)
    await db.batch([
        Statement("DELETE FROM alert_delivery_attempts WHERE delivery_id IN "
                  f"(SELECT id FROM alert_deliveries WHERE alert_id IN ({marks}))", ids),
        Statement(f"DELETE FROM alert_deliveries WHERE alert_id IN ({marks})", ids),
        Statement(f"DELETE FROM alerts WHERE id IN ({marks}) AND status = 'resolved'", ids),
    ])
    return len(ids)
