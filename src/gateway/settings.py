"""Configuration, read once from a flat string mapping (the Worker's env, or the process
environment plus `.dev.vars` locally). No global config: `create_app` receives a `Settings`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping

from gateway.pipeline.health import HealthSettings
from gateway.pipeline.retry_policy import RetryPolicy

# Any request header: the official SDKs send their own (x-stainless-*, openai-organization, ...), and
# credentials travel in headers, never cookies, so there is nothing a wildcard would expose.
DEFAULT_CORS_HEADERS = ("*",)


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"setting {name} must be a number, got {raw!r}") from exc


# Revocations, tier edits and budgets must apply within a minute in every isolate.
MAX_CACHE_SECONDS = 60.0


def _at_most(env: Mapping[str, str], name: str, default: float, ceiling: float) -> float:
    value = _float(env, name, default)
    if value > ceiling:
        raise ValueError(f"setting {name} must be at most {ceiling:g} seconds, got {value:g}")
    return value


def _list(raw: str | None, default: tuple[str, ...]) -> tuple[str, ...]:
    if raw is None:
        return default
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _health(env: Mapping[str, str]) -> HealthSettings:
    """HEALTH_* settings (docs/health.md); each defaults to HealthSettings' value."""
    d = HealthSettings()
    return HealthSettings(
        window_seconds=_float(env, "HEALTH_WINDOW_SECONDS", d.window_seconds),
        failure_threshold=int(_float(env, "HEALTH_FAILURE_THRESHOLD", d.failure_threshold)),
        error_rate=_float(env, "HEALTH_ERROR_RATE", d.error_rate),
        min_samples=int(_float(env, "HEALTH_MIN_SAMPLES", d.min_samples)),
        cooldown_seconds=_float(env, "HEALTH_COOLDOWN_SECONDS", d.cooldown_seconds),
        ewma_alpha=_float(env, "HEALTH_EWMA_ALPHA", d.ewma_alpha),
        flush_seconds=_float(env, "HEALTH_FLUSH_SECONDS", d.flush_seconds),
    )


def _retry(env: Mapping[str, str]) -> RetryPolicy:
    """Timeouts and retries (docs/fallbacks.md); each defaults to RetryPolicy's value."""
    d = RetryPolicy()
    return RetryPolicy(
        connect_seconds=_float(env, "CONNECT_TIMEOUT_SECONDS", d.connect_seconds),
        first_token_seconds=_float(env, "FIRST_TOKEN_TIMEOUT_SECONDS", d.first_token_seconds),
        stream_idle_seconds=_float(env, "STREAM_IDLE_TIMEOUT_SECONDS", d.stream_idle_seconds),
        attempt_seconds=_float(env, "UPSTREAM_TIMEOUT_SECONDS", d.attempt_seconds),
        deadline_seconds=_float(env, "REQUEST_DEADLINE_SECONDS", d.deadline_seconds),
        retries_per_model=int(_float(env, "RETRIES_PER_MODEL", d.retries_per_model)),
        base_backoff_seconds=_float(env, "RETRY_BASE_SECONDS", d.base_backoff_seconds),
        max_backoff_seconds=_float(env, "RETRY_MAX_BACKOFF_SECONDS", d.max_backoff_seconds),
        retry_after_cap_seconds=_float(env, "RETRY_AFTER_CAP_SECONDS", d.retry_after_cap_seconds),
        max_attempts=max(1, int(_float(env, "MAX_ATTEMPTS", d.max_attempts))),
        fallbacks=(env.get("FALLBACKS") or "on").strip().lower() not in ("off", "0", "false", "no"),
    )


def _flag(env: Mapping[str, str], name: str) -> bool:
    return (env.get(name) or "").strip().lower() in ("1", "true", "yes", "on")


def env_prefix(provider_id: str) -> str:
    """'openai' -> 'OPENAI', 'lm-studio' -> 'LM_STUDIO': the prefix of a provider's env settings."""
    return re.sub(r"[^A-Za-z0-9]", "_", provider_id).upper()


@dataclass(frozen=True)
class Settings:
    admin_key: str | None = None
    cors_allow_origins: tuple[str, ...] = ("*",)
    cors_allow_headers: tuple[str, ...] = DEFAULT_CORS_HEADERS
    max_body_bytes: int = 25 * 1024 * 1024
    max_upload_bytes: int = 25 * 1024 * 1024  # largest audio file /v1/audio/transcriptions takes (OpenAI's cap)
    key_cache_seconds: float = 10.0
    catalog_cache_seconds: float = 60.0
    usage_flush_seconds: float = 0.02  # usage rows finishing within this window share one write
    tier_cache_seconds: float = 30.0    # how long an isolate keeps the tiers' limits (at most 60)
    budget_cache_seconds: float = 5.0   # how long an isolate keeps a caller's budgets and spend
    workers_ai_daily_neurons: float = 10_000.0  # the free Workers AI allocation per UTC day
    workers_ai_paid: bool = False       # true: Workers AI may go beyond it (billed by Cloudflare)
    health: HealthSettings = field(default_factory=HealthSettings)  # model health and circuit breaker
    retry: RetryPolicy = field(default_factory=RetryPolicy)          # timeouts, retries and the deadline
    spend_watch: bool = True                   # spend alerts checked after each usage write (docs/alerts.md)
    spend_watch_refresh_seconds: float = 60.0  # how old its spend rules and readings may grow while spend is added
    alert_webhook_allow_http: bool = False     # webhooks may be plain http:// (docs/alerts.md "Webhook targets")
    alert_webhook_allow_private: bool = False  # webhooks may target loopback / private / link-local addresses
    alert_retention_days: float = 90.0         # resolved alerts (and their deliveries) older than this are pruned
    # The raw mapping, for provider settings whose names depend on the provider (`<PREFIX>_API_KEY`).
    env: Mapping[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "Settings":
        return cls(
            admin_key=env.get("GATEWAY_ADMIN_KEY") or None,
            cors_allow_origins=_list(env.get("CORS_ALLOW_ORIGINS"), ("*",)),
            cors_allow_headers=_list(env.get("CORS_ALLOW_HEADERS"), DEFAULT_CORS_HEADERS),
            max_body_bytes=int(_float(env, "MAX_BODY_BYTES", 25 * 1024 * 1024)),
            max_upload_bytes=int(_float(env, "MAX_UPLOAD_BYTES", 25 * 1024 * 1024)),
            key_cache_seconds=_at_most(env, "KEY_CACHE_SECONDS", 10.0, MAX_CACHE_SECONDS),
            catalog_cache_seconds=_float(env, "CATALOG_CACHE_SECONDS", 60.0),
            usage_flush_seconds=_float(env, "USAGE_FLUSH_SECONDS", 0.02),
            tier_cache_seconds=_at_most(env, "TIER_CACHE_SECONDS", 30.0, MAX_CACHE_SECONDS),
            budget_cache_seconds=_at_most(env, "BUDGET_CACHE_SECONDS", 5.0, MAX_CACHE_SECONDS),
            workers_ai_daily_neurons=_float(env, "WORKERS_AI_DAILY_NEURONS", 10_000.0),
            workers_ai_paid=(env.get("WORKERS_AI_PAID") or "").strip().lower() in ("1", "true", "yes"),
            health=_health(env),
            retry=_retry(env),
            spend_watch=(env.get("SPEND_WATCH") or "on").strip().lower() not in ("off", "0", "false", "no"),
            spend_watch_refresh_seconds=_float(env, "SPEND_WATCH_REFRESH_SECONDS", 60.0),
            alert_webhook_allow_http=_flag(env, "ALERT_WEBHOOK_ALLOW_HTTP"),
            alert_webhook_allow_private=_flag(env, "ALERT_WEBHOOK_ALLOW_PRIVATE"),
            alert_retention_days=_float(env, "ALERT_RETENTION_DAYS", 90.0),
            env=env,
        )

    def provider_api_key(self, provider_id: str) -> str | None:
        return self.env.get(f"{env_prefix(provider_id)}_API_KEY") or None

    def provider_base_url(self, provider_id: str) -> str | None:
        return self.env.get(f"{env_prefix(provider_id)}_BASE_URL") or None
