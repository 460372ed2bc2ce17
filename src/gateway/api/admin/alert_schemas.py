"""Request bodies of the alerting admin routes (docs/alerts.md). Unknown fields are refused; what depends
on the kind (params, a percent threshold, a system-only kind) is checked by the route, which names the field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gateway.api.admin.schemas import _Request

Kind = Literal["spend_per_hour", "error_rate", "circuit_open", "rate_limiter_fail_open", "neuron_budget", "budget"]
Severity = Literal["info", "warning", "critical"]
WebhookFormat = Literal["json", "slack"]


class _RuleFields(_Request):
    severity: Severity | None = Field(default=None, description="info | warning | critical")
    threshold: float | None = Field(default=None, ge=0, description="USD (spend_per_hour), a rate 0–1 (error_rate), "
                                    "a count (circuit_open, rate_limiter_fail_open), a percent (budget, neuron_budget)")
    window_minutes: int | None = Field(default=None, ge=1, le=1440, description="how far back the rule looks")
    params: dict[str, Any] | None = Field(default=None, description='error_rate: {"by": "provider" | "model", '
                                          '"min_requests", "provider"?, "model"?}; circuit_open: {"provider"?}')
    enabled: bool | None = Field(default=None)


class CreateRuleRequest(_RuleFields):
    kind: Kind = Field(description="what the rule watches")
    org_id: str | None = Field(default=None, description="an org's rule (its admins); null: global (system)")
    key_id: str | None = Field(default=None, description="a key's rule (the admins of the key's org; system)")
    severity: Severity = Field(default="warning", description="info | warning | critical")  # type: ignore[assignment]
    threshold: float = Field(ge=0, description="see the kinds in docs/alerts.md")  # type: ignore[assignment]
    window_minutes: int = Field(default=60, ge=1, le=1440)  # type: ignore[assignment]
    enabled: bool = Field(default=True)  # type: ignore[assignment]


class UpdateRuleRequest(_RuleFields):
    """Any field but kind and scope (another kind or scope is another rule: delete it and create one)."""


class _WebhookFields(_Request):
    url: str | None = Field(default=None, max_length=2000,
                            description="https URL that receives the POSTs (a secret: sealed, answered masked)")
    format: WebhookFormat | None = Field(default=None, description='json (generic) or slack ({"text": ...})')
    enabled: bool | None = Field(default=None)


class CreateWebhookRequest(_WebhookFields):
    org_id: str | None = Field(default=None, description="an org's webhook (its alerts only); null: every alert "
                                                          "(system)")
    url: str = Field(max_length=2000, description="https URL that receives the POSTs (a secret: sealed, answered "
                     "masked)")  # type: ignore[assignment]
    format: WebhookFormat = Field(default="json")  # type: ignore[assignment]
    enabled: bool = Field(default=True)  # type: ignore[assignment]


class UpdateWebhookRequest(_WebhookFields):
    """Any field but org_id."""
