"""The admin API under /admin (docs/admin.md): one router per kind of object. Every route takes its
principal from admin_access.py (system, org admin, user); another tenant's object answers 404."""

from __future__ import annotations

from fastapi import APIRouter

from gateway.api.admin import keys, orgs, providers, tiers, usage, users
from gateway.api.admin import health

router = APIRouter()
for _module in (keys, orgs, users, tiers, usage, providers):
    router.include_router(_module.router)
router.include_router(health.router)
