"""Spend alerts checked on the request path (docs/alerts.md, "On the request path"), cheaply.

The cron job evaluates every rule every five minutes; a spend_per_hour rule crossed between two runs would
wait for the next one. Here each isolate watches its enabled spend rules after every usage batch it writes
(UsageRecorder's `on_written`, already deferred through the Background port: waitUntil in the Worker), so
nothing runs on the client's path.

Per rule the isolate keeps the window's spend as D1 last answered it (`spent`) and the cost of the rows it
wrote since (`added`): `spent + added` is an upper estimate of the window's spend now (rows leaving the
window are not subtracted; other isolates' rows come in with the next reading). A batch costs no D1 query
unless, for some rule it adds spend to,
- the rule was never read in this isolate, or
- the estimate is over the threshold and no firing episode is known, or
- the reading is older than SPEND_WATCH_REFRESH_SECONDS (another isolate's spend, an episode the cron
  resolved, a new rule's first reading).
Then just those rules are evaluated against D1 by the cron job's own code (alerting.evaluate_rules: same
readings, same subjects, same `fire`, safe against a concurrent cron run), without resolving (spend falling
is not urgent: the cron resolves), and the deliveries of what fired are sent at once, a few at most.

Bounded: one evaluation in flight per isolate (batches written meanwhile only add to the estimates; the
running evaluation looks again before it ends), the rules themselves re-read at most once per refresh period
(a rule written through this isolate's admin API at once, `rules_changed`; other isolates within the
period; the cron on its next run),
and a batch with no cost (free models, failures) does nothing at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from gateway.pipeline import alerting
from gateway.pipeline.alerts import Reading, Rule, breached
from gateway.storage import alerts as alerts_sql

if TYPE_CHECKING:
    from gateway.core import Gateway

log = logging.getLogger("gateway.alerts")

KIND = "spend_per_hour"
DELIVERIES_NOW = 3        # sent right after a fire (each up to 10 s: within waitUntil's 30 s); the rest: cron
ROUNDS = 3                # evaluations one flush may run back to back while batches keep crossing


def in_scope(rule: Rule, row: Mapping[str, Any]) -> bool:
    """Whether a usage row counts toward the rule's spend (the same filter as the cron's reading)."""
    return ((rule.org_id is None or row.get("org_id") == rule.org_id)
            and (rule.key_id is None or row.get("key_id") == rule.key_id))


def row_cost(row: Mapping[str, Any]) -> float:
    cost = row.get("cost_usd")
    return float(cost) if cost else 0.0


@dataclass
class Watched:
    """One spend rule as this isolate last saw it (monotonic seconds)."""

    rule: Rule
    row: dict[str, Any]            # the rule's row, as evaluate_rules takes it
    spent: float | None = None     # the window's spend at the last reading; None: never read here
    read_at: float = 0.0
    added: float = 0.0             # cost of the rows this isolate wrote since that reading
    firing: bool = False           # an episode was open for it at that reading
    quiet_until: float = 0.0       # after a failed evaluation: not again before this

    @property
    def estimate(self) -> float:
        return (self.spent or 0.0) + self.added


class SpendLedger:
    """The pure part: the watched rules, what batches add to them, and which of them need D1 now."""

    def __init__(self, refresh_seconds: float) -> None:
        self.refresh_seconds = refresh_seconds
        self.watched: dict[str, Watched] = {}

    def set_rules(self, rows: Iterable[dict[str, Any]]) -> None:
        """The enabled rows of alert_rules; spend rules are watched, a rule that did not change keeps its
        reading (a changed window or scope makes it another measurement: read afresh)."""
        kept: dict[str, Watched] = {}
        for row in rows:
            if row.get("kind") != KIND:
                continue
            try:
                rule = Rule.from_row(row)
            except (ValueError, TypeError, KeyError):
                continue  # the cron job logs a broken rule; the request path stays quiet about it
            old = self.watched.get(rule.id)
            kept[rule.id] = old if old is not None and old.rule == rule else Watched(rule, dict(row))
        self.watched = kept

    def add(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            cost = row_cost(row)
            if cost > 0:
                for watched in self.watched.values():
                    if in_scope(watched.rule, row):
                        watched.added += cost

    def is_due(self, watched: Watched, now: float) -> bool:
        if watched.added <= 0 or now < watched.quiet_until:
            return False  # nothing new in its scope, or it just failed
        if watched.spent is None or now - watched.read_at >= self.refresh_seconds:
            return True
        return not watched.firing and breached(watched.rule, Reading("estimate", watched.estimate))

    def due(self, now: float) -> list[Watched]:
        return [watched for watched in self.watched.values() if self.is_due(watched, now)]

    @staticmethod
    def start(due: list[Watched]) -> list[float]:
        """Before the read: what was added so far is in D1's answer (each batch is observed after its write);
        rows observed during the read count again on top of it (an overestimate at worst, never a miss)."""
        added = [watched.added for watched in due]
        for watched in due:
            watched.added = 0.0
        return added

    def read(self, watched: Watched, spent: float, firing: bool, now: float) -> None:
        watched.spent, watched.firing, watched.read_at = spent, firing, now

    def failed(self, watched: Watched, added_before: float, now: float) -> None:
        watched.added += added_before
        watched.quiet_until = now + self.refresh_seconds


@dataclass
class SpendWatch:
    """The I/O part: one per Gateway (an isolate), handed to the UsageRecorder as its `on_written`."""

    gateway: "Gateway"
    refresh_seconds: float
    ledger: SpendLedger = field(init=False)
    rules_loaded_at: float | None = field(default=None, init=False)
    evaluating: bool = field(default=False, init=False)
    evaluations: int = field(default=0, init=False)  # how many times D1 was asked (logs, tests)

    def __post_init__(self) -> None:
        self.ledger = SpendLedger(self.refresh_seconds)

    async def observe(self, rows: list[dict[str, Any]]) -> None:
        """A usage batch was written. Never raises: the rows are in, an alert problem must not hide that."""
        try:
            if not any(row_cost(row) > 0 for row in rows):
                return
            await self._refresh_rules()
            self.ledger.add(rows)
            if self.evaluating:
                return  # the evaluation in flight looks again before it ends
            self.evaluating = True
            try:
                for _ in range(ROUNDS):
                    due = self.ledger.due(self.gateway.ports.clock.monotonic())
                    if not due:
                        break
                    await self._evaluate(due)
            finally:
                self.evaluating = False
        except Exception:
            log.exception("spend alerts could not be checked after a usage write")

    def rules_changed(self) -> None:
        """A rule was written through this isolate's admin API: re-read the rules at the next priced batch
        (other isolates pick it up within their refresh period)."""
        self.rules_loaded_at = None

    async def _refresh_rules(self) -> None:
        now = self.gateway.ports.clock.monotonic()
        if self.rules_loaded_at is not None and now - self.rules_loaded_at < self.refresh_seconds:
            return
        self.rules_loaded_at = now  # also on failure: the next try waits its turn
        self.ledger.set_rules(await alerts_sql.enabled_rules(self.gateway.ports.database))

    async def _evaluate(self, due: list[Watched]) -> None:
        clock = self.gateway.ports.clock
        added_before = SpendLedger.start(due)
        self.evaluations += 1
        report = alerting.RunReport()
        try:
            outcomes = await alerting.evaluate_rules(self.gateway, [watched.row for watched in due], report,
                                                     resolve=False)
        except Exception:
            outcomes = {}  # open_alerts failed: every rule failed
            log.exception("spend rules could not be evaluated on the request path")
        now = clock.monotonic()
        for watched, added in zip(due, added_before):
            outcome = outcomes.get(watched.rule.id)
            if outcome is None or not outcome.readings:
                self.ledger.failed(watched, added, now)
            else:  # a spend rule has one reading, under the subject its scope names (gateway, org:…, key:…)
                reading = outcome.readings[0]
                self.ledger.read(watched, reading.value, reading.subject in outcome.firing, now)
        if report.fired:
            log.info("spend alerts fired on the request path: %s", ", ".join(report.fired))
            await alerting.deliver_due(self.gateway, report, limit=DELIVERIES_NOW)
