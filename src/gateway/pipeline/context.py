"""What the stages learn about one request, carried from authentication to the usage row."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.usage import Usage


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated gateway key and who it belongs to, with the key's own limits."""

    key_id: str
    user_id: str | None = None
    org_id: str | None = None
    tier_id: str | None = None               # the effective tier (storage/keys.py resolves it)
    requests_per_day: int | None = None      # the key's own daily request limit (None: the tier's)
    daily_budget_usd: float | None = None
    monthly_budget_usd: float | None = None
    allowed_models: tuple[str, ...] | None = None     # None: every model
    allowed_providers: tuple[str, ...] | None = None  # None: every provider
    default_strategy: str | None = None      # what bare `auto` means for this key (key's, else org's)


@dataclass(frozen=True, slots=True)
class Target:
    """The provider and model a request goes to, as routing decided."""

    provider_id: str
    adapter: str
    upstream_model: str
    model_id: str                      # 'provider/model', as logged and answered
    catalog_entry: dict[str, Any] | None = None  # None: a model the catalog does not list yet


@dataclass(slots=True)
class RequestContext:
    request_id: str
    endpoint: str
    started: float                     # monotonic seconds, when the gateway got the request
    received_at: float                 # wall-clock seconds, for the usage row
    caller: Caller | None = None
    requested_model: str | None = None
    target: Target | None = None
    key_level: str | None = None
    attempts: int = 1                  # upstream calls made (retries, fallbacks, a rejected stored key's next level)
    fallbacks: tuple[str, ...] = ()    # the category of each failed attempt another one followed, in order
    route_strategy: str | None = None  # auto routing: the strategy that picked the model
    route_reason: str | None = None    # auto routing: why (x-gateway-route-reason)
    failure: tuple[int, str] | None = None  # (status, error type) of the last failed attempt, when every one failed
    stream: bool = False
    upstream_seconds: float = 0.0      # time spent waiting on the provider (excluded from overhead)
    waited_seconds: float = 0.0        # backoff before a retry (not the gateway's own cost either)
    ttft_seconds: float | None = None
    usage: Usage | None = None
    status: str = "success"            # success | error | cancelled
    http_status: int = 200
    error_type: str | None = None
    malformed_events: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    limit_headers: dict[str, str] | None = None  # x-ratelimit-* of a limited caller (pipeline/limits.py)
    max_output_tokens: int | None = None          # the request's max_tokens, for pre-call estimates
    request_bytes: int = 0                        # the body's Content-Length, for pre-call estimates
    max_cost_usd: float | None = None             # x-gateway-max-cost: auto routing's ceiling for this request

    def overhead_ms(self, now: float) -> float:
        return max((now - self.started - self.upstream_seconds - self.waited_seconds) * 1000.0, 0.0)

    def response_headers(self, now: float) -> dict[str, str]:
        headers = {"x-request-id": self.request_id, "x-gateway-overhead-ms": f"{self.overhead_ms(now):.2f}"}
        if self.target is not None:
            headers["x-gateway-provider"] = self.target.provider_id
            headers["x-gateway-model"] = self.target.model_id
        if self.key_level is not None:
            headers["x-gateway-key-level"] = self.key_level
        headers["x-gateway-attempts"] = str(self.attempts)
        if self.fallbacks:
            headers["x-gateway-fallback"] = ",".join(self.fallbacks)
        if self.route_reason is not None:
            headers["x-gateway-route-reason"] = self.route_reason
        if self.limit_headers:
            headers.update(self.limit_headers)
        return headers
