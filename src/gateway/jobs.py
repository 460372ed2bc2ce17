"""Scheduled jobs: the Worker's cron trigger (and the local runner's timer) runs every registered job.

A job is an async function of the Gateway; one failing job does not stop the others.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Awaitable, Callable

from gateway.crypto.rotation import reseal_batch
from gateway.pipeline import alerting, webhook_secrets
from gateway.storage import alerts as alerts_storage
from gateway.timefmt import utc_text

if TYPE_CHECKING:
    from gateway.core import Gateway

log = logging.getLogger("gateway.jobs")

Job = Callable[["Gateway"], Awaitable[None]]
JOBS: dict[str, Job] = {}


def job(name: str) -> Callable[[Job], Job]:
    def register(function: Job) -> Job:
        JOBS[name] = function
        return function

    return register


async def run_all(gateway: "Gateway") -> dict[str, str]:
    """Run every job; answers each job's outcome ('ok' or the error's text)."""
    outcomes = {}
    for name, function in JOBS.items():
        try:
            await function(gateway)
            outcomes[name] = "ok"
        except Exception as exc:  # a broken job must not starve the rest
            log.exception("scheduled job %s failed", name)
            outcomes[name] = f"failed: {exc}"
    return outcomes


@job("prune_rate_limit_counters")
async def prune_rate_limit_counters(gateway: "Gateway") -> None:
    """Daily counters older than two days are never read again."""
    cutoff = utc_text(gateway.ports.clock.now() - 2 * 86400)[:10]
    await gateway.ports.database.query("DELETE FROM rate_limit_counters WHERE window < ?", (cutoff,))


CREDENTIAL_RESEALS_PER_RUN = 50  # bounded: each reseal is two cipher calls and one UPDATE


@job("reseal_credentials")
async def reseal_credentials(gateway: "Gateway") -> None:
    """Finish a GATEWAY_ENCRYPTION_KEY rotation: reseal rows still under an older key id (docs/credentials.md).
    Nothing to do where credentials are not configured."""
    sealer = gateway.credentials.sealer
    if not sealer.configured:
        return
    outcome = await reseal_batch(gateway.ports.database, gateway.ports.clock, sealer, CREDENTIAL_RESEALS_PER_RUN)
    if outcome["resealed"] or outcome["unreadable"]:
        log.info("credential rotation: %s", outcome)
        gateway.credentials.invalidate()


VIDEO_POLLS_PER_RUN = 50  # bounded: a run makes at most this many provider calls (Workers cap subrequests)


@job("poll_video_jobs")
async def poll_video_jobs(gateway: "Gateway") -> None:
    """Ask the providers about unfinished video jobs (longest-unasked first) and bill the finished ones,
    so a job is billed even when its client never polls again."""
    await gateway.video.poll_due(VIDEO_POLLS_PER_RUN)


@job("evaluate_alerts")
async def evaluate_alerts(gateway: "Gateway") -> None:
    """Alert rules against what D1 recorded; fire, keep or resolve episodes; send due webhook deliveries
    (docs/alerts.md)."""
    await alerting.run(gateway)


WEBHOOK_SEALS_PER_RUN = 50  # bounded like the credentials' reseal: two cipher calls and one UPDATE each


@job("reseal_webhooks")
async def reseal_webhooks(gateway: "Gateway") -> None:
    """Seal webhook URLs still in plain text (stored before migration 0024; each gets a signing secret) and
    reseal those under an older GATEWAY_ENCRYPTION_KEY key id (docs/alerts.md). Nothing to do where the
    keyring is not configured: plain rows keep being delivered, unsigned."""
    sealer = gateway.credentials.sealer
    if not sealer.configured:
        return
    outcome = await webhook_secrets.reseal_batch(gateway.ports.database, sealer, WEBHOOK_SEALS_PER_RUN)
    if outcome["sealed"] or outcome["resealed"] or outcome["unreadable"]:
        log.info("webhook sealing: %s", outcome)


ALERTS_PRUNED_PER_RUN = 90  # D1 binds at most 100 parameters a statement; the ids are bound


@job("prune_alerts")
async def prune_alerts(gateway: "Gateway") -> None:
    """Delete resolved alerts older than ALERT_RETENTION_DAYS with their deliveries and attempts (docs/alerts.md),
    oldest first, a bounded batch per run. Firing alerts are never pruned."""
    days = gateway.settings.alert_retention_days
    if days <= 0:
        return
    cutoff = utc_text(gateway.ports.clock.now() - days * 86400)
    pruned = await alerts_storage.prune_resolved(gateway.ports.database, cutoff, ALERTS_PRUNED_PER_RUN)
    if pruned:
        log.info("alerts: pruned %d resolved before %s", pruned, cutoff)
