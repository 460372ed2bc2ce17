"""Tiers: anyone with admin access reads them; the system edits them (the limits other stages enforce
are read from these rows, so an edit takes effect without a deploy)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from gateway.api.admin.common import as_bools, gateway_of, listing, refuse_nulls
from gateway.api.admin.schemas import TierList, TierOut, UpdateTierRequest, error_responses
from gateway.api.admin_access import Principal, admin_principal, not_found, system_principal
from gateway.api.responses import json_response
from gateway.storage import tenants

router = APIRouter(prefix="/admin", tags=["Admin: tiers"])


@router.get("/tiers", response_model=TierList, summary="The tiers and their limits",
            responses=error_responses(401, 403))
async def list_tiers(request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    rows = await tenants.list_tiers(gateway_of(request).ports.database)
    return json_response(listing([as_bools(row, "pay_as_you_go") for row in rows]))


@router.get("/tiers/{tier_id}", response_model=TierOut, summary="One tier", responses=error_responses(401, 403, 404))
async def get_tier(tier_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    row = await tenants.get_tier(gateway_of(request).ports.database, tier_id)
    if row is None:
        raise not_found("tier", tier_id, "tier_id")
    return json_response(as_bools(row, "pay_as_you_go"))


@router.patch("/tiers/{tier_id}", response_model=TierOut,
              summary="Change a tier's limits (system); daily_request_limit null = unlimited",
              responses=error_responses(400, 401, 403, 404))
async def update_tier(tier_id: str, body: UpdateTierRequest, request: Request,
                      principal: Principal = Depends(system_principal)) -> Response:
    db = gateway_of(request).ports.database
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, ("name", "pay_as_you_go"))
    if "pay_as_you_go" in fields:
        fields["pay_as_you_go"] = int(fields["pay_as_you_go"])
    row = await tenants.update_tier(db, tier_id, fields) if fields else await tenants.get_tier(db, tier_id)
    if row is None:
        raise not_found("tier", tier_id, "tier_id")
    return json_response(as_bools(row, "pay_as_you_go"))
