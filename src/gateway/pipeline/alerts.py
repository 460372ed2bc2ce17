"""Alert rules as pure decisions (docs/alerts.md): no SQL, no I/O, so they unit-test without a database.

The cron job (pipeline/alerting.py) measures each rule's readings in D1 (storage/alerts.py: one reading per
subject — the gateway, an org, a key, a model, a budget), then `plan` decides per subject against the rule's
open episodes: fire (a new `alerts` row and a 'fired' delivery), keep (still firing: no new row, no
delivery), resolve (the condition cleared: resolved_at and a 'resolved' delivery). Webhook bodies and the
retry schedule are decided here too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Mapping

KINDS = ("spend_per_hour", "error_rate", "circuit_open", "rate_limiter_fail_open", "neuron_budget", "budget")
SEVERITIES = ("info", "warning", "critical")
# Facts about the whole gateway: only a system rule (no org, no key) may watch them.
SYSTEM_ONLY_KINDS = frozenset({"circuit_open", "rate_limiter_fail_open", "neuron_budget"})
PERCENT_KINDS = frozenset({"neuron_budget", "budget"})  # threshold: percent of the budget used
ERROR_RATE_GROUPS = ("provider", "model")
DEFAULT_MIN_REQUESTS = 10  # an error rate over fewer requests is noise, not a spike


@dataclass(frozen=True, slots=True)
class Reading:
    """What one subject measures now: spend in USD, an error rate (0–1), a count, a percent used."""

    subject: str                 # 'gateway', 'org:<id>', 'key:<id>', 'provider:<id>', 'model:<id>', 'key:<id>/daily'
    value: float
    org_id: str | None = None    # the tenant the alert belongs to (who may see it)
    samples: int | None = None   # requests behind an error rate


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    kind: str
    severity: str
    threshold: float
    window_minutes: int = 60
    org_id: str | None = None
    key_id: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> "Rule":
        return cls(id=row["id"], kind=row["kind"], severity=row["severity"], threshold=float(row["threshold"]),
                   window_minutes=int(row["window_minutes"]), org_id=row.get("org_id"), key_id=row.get("key_id"),
                   params=json.loads(row["params"]) if row.get("params") else {})


def breached(rule: Rule, reading: Reading) -> bool:
    """Spend is "over" the threshold (the issue: over $1); counts, rates and percents fire on reaching it."""
    if rule.kind == "spend_per_hour":
        return reading.value > rule.threshold
    if rule.kind == "error_rate":
        floor = int(rule.params.get("min_requests", DEFAULT_MIN_REQUESTS))
        return (reading.samples or 0) >= floor and reading.value >= rule.threshold
    return reading.value >= rule.threshold


@dataclass(frozen=True, slots=True)
class Plan:
    fire: list[Reading]                           # new episodes
    keep: list[tuple[str, Reading]]               # (open alert id, its reading now)
    resolve: list[str]                            # open alert ids whose condition cleared


def plan(rule: Rule, readings: list[Reading], open_alerts: Mapping[str, str]) -> Plan:
    """`open_alerts`: subject -> id of the rule's firing alert. A subject with no reading now has cleared."""
    fire: list[Reading] = []
    keep: list[tuple[str, Reading]] = []
    firing_subjects = set()
    for reading in readings:
        if not breached(rule, reading):
            continue
        firing_subjects.add(reading.subject)
        if reading.subject in open_alerts:
            keep.append((open_alerts[reading.subject], reading))
        else:
            fire.append(reading)
    resolve = [alert_id for subject, alert_id in open_alerts.items() if subject not in firing_subjects]
    return Plan(fire, keep, resolve)


def _money(usd: float) -> str:
    return f"${usd:,.2f}" if usd >= 0.01 or usd == 0 else f"${usd:.6f}"


def describe(kind: str, subject: str, value: float | None, threshold: float, window_minutes: int) -> str:
    """One line a person reads in Slack or the admin API."""
    value = 0.0 if value is None else value
    if kind == "spend_per_hour":
        return (f"Spend of {subject} in the last {window_minutes} min is {_money(value)}, "
                f"over {_money(threshold)}.")
    if kind == "error_rate":
        return (f"Error rate of {subject} in the last {window_minutes} min is {value:.0%} "
                f"(threshold {threshold:.0%}).")
    if kind == "circuit_open":
        return f"The circuit of {subject} is open: the router skips it until a probe succeeds."
    if kind == "rate_limiter_fail_open":
        return (f"The rate limiter failed open {value:g} time(s) in the last {window_minutes} min "
                f"(threshold {threshold:g}): requests went through uncounted.")
    if kind == "neuron_budget":
        return f"Workers AI neurons today are at {value:.0f}% of the daily allocation (threshold {threshold:g}%)."
    return f"The budget {subject} is {value:.0f}% spent (threshold {threshold:g}%)."


# --- webhooks -----------------------------------------------------------------------------------------

def webhook_body(webhook_format: str, event: str, alert: Mapping[str, Any], sent_at: str) -> dict[str, Any]:
    """The JSON a webhook receives: the generic shape, or Slack's incoming-webhook `{"text": ...}`."""
    if webhook_format == "slack":
        mark = ":rotating_light:" if event == "fired" else ":white_check_mark:"
        state = "FIRING" if event == "fired" else "RESOLVED"
        return {"text": f"{mark} [{alert['severity']}] {state} {alert['kind']} {alert['subject']}: "
                        f"{alert['message']} (alert {alert['id']})"}
    return {
        "event": event,
        "sent_at": sent_at,
        "alert": {name: alert.get(name) for name in (
            "id", "rule_id", "kind", "severity", "status", "org_id", "subject", "value", "threshold", "message",
            "fired_at", "resolved_at")},
    }


MAX_DELIVERY_ATTEMPTS = 6
RETRY_BASE_SECONDS = 300.0  # the cron period: the first retry is on the next run
RETRY_CAP_SECONDS = 6 * 3600.0


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: 5, 10, 20, 40, 80 min (capped at 6 h)."""
    return min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS)


def delivered(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


# --- what a rule may say (the admin API refuses the rest, naming the field) -------------------------

_PARAMS = {
    "error_rate": {"by", "min_requests", "provider", "model"},
    "circuit_open": {"provider"},
}


def rule_problem(kind: str, threshold: float, params: Mapping[str, Any] | None, scoped: bool) -> tuple[str, str] | None:
    """(field, why) of the first thing wrong with a rule, or None. `scoped`: it has an org or a key."""
    if scoped and kind in SYSTEM_ONLY_KINDS:
        return "org_id", f"a {kind} rule watches the whole gateway: it takes no org_id or key_id"
    if kind in PERCENT_KINDS and threshold <= 0:
        return "threshold", "a percent of the budget, above 0 (80 = 80 %)"
    if kind == "error_rate" and not 0 < threshold <= 1:
        return "threshold", "an error rate above 0 and at most 1 (0.5 = 50 %)"
    if kind in ("circuit_open", "rate_limiter_fail_open") and threshold < 1:
        return "threshold", "a count of at least 1"
    allowed = _PARAMS.get(kind, set())
    for name, value in (params or {}).items():
        if name not in allowed:
            names = ", ".join(sorted(allowed)) or "none"
            return f"params.{name}", f"not a parameter of {kind} rules (they take: {names})"
        if name == "by" and value not in ERROR_RATE_GROUPS:
            return "params.by", "must be provider or model"
        if name == "min_requests" and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            return "params.min_requests", "a whole number of requests, at least 1"
        if name in ("provider", "model") and (not isinstance(value, str) or not value):
            return f"params.{name}", "a provider or model id"
    return None
