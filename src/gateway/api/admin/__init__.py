"""The admin API under /admin (docs/admin.md): one router per kind of object. Every route takes its
principal from admin_access.py (system, org admin, user); another tenant's object answers 404."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.admin import (alerts, analytics, fallback_chains, health, keys, models, orgs, providers, tiers,
                               usage, users)

router = APIRouter()
# models: the model catalog (docs/catalog.md); health: live model health (docs/health.md);
# fallback_chains: what a failed request moves on to (docs/fallbacks.md);
# analytics: the views of d1_views.sql per tenant (docs/analytics.md); alerts: rules, webhooks, alerts
# (docs/alerts.md).
for _module in (keys, orgs, users, tiers, usage, providers, models, health, fallback_chains, analytics, alerts):
    router.include_router(_module.router)
