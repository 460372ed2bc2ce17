"""Users: the system creates and changes them; anyone may read themselves, org admins their members."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway.api.admin.common import as_bools, gateway_of, listing, refuse_nulls, require_tier
from gateway.api.admin.schemas import (
    CreateUserRequest, MeOut, UpdateUserRequest, UserList, UserOut, error_responses,
)
from gateway.api.admin_access import Principal, admin_principal, not_found, system_principal
from gateway.api.responses import json_response
from gateway.errors import ConflictError
from gateway.ports import DatabaseError
from gateway.storage import tenants

router = APIRouter(prefix="/admin", tags=["Admin: users"])


def _user(row: dict) -> dict:
    return as_bools(row, "is_system_admin")


@router.get("/me", response_model=MeOut, summary="Who the caller is to the admin API",
            responses=error_responses(401, 403))
async def me(request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    user = None
    if principal.user_id is not None:
        user = await tenants.get_user(gateway_of(request).ports.database, principal.user_id)
    return json_response({"system": principal.system, "user": _user(user) if user else None,
                          "key_id": principal.key_id, "memberships": dict(principal.org_roles)})


@router.post("/users", status_code=201, response_model=UserOut, summary="Create a user (system)",
             responses=error_responses(400, 401, 403, 409))
async def create_user(body: CreateUserRequest, request: Request, principal: Principal = Depends(system_principal)) -> Response:
    db = gateway_of(request).ports.database
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, ("tier_id",))
    if "tier_id" in fields:
        await require_tier(db, fields["tier_id"])
    if "is_system_admin" in fields:
        fields["is_system_admin"] = int(fields["is_system_admin"])
    try:
        row = await tenants.insert_user(db, "user_" + uuid.uuid4().hex, fields)
    except DatabaseError as exc:
        if "UNIQUE" in str(exc):
            raise ConflictError("A user with this email exists.", param="email", code="email_taken") from None
        raise
    return json_response(_user(row), status=201)


@router.get("/users", response_model=UserList,
            summary="The users the caller may see: all (system), self and the members of orgs they administer",
            responses=error_responses(400, 401, 403))
async def list_users(request: Request, limit: int = Query(100, ge=1, le=1000),
                     principal: Principal = Depends(admin_principal)) -> Response:
    rows = await tenants.list_users(gateway_of(request).ports.database, everything=principal.system,
                                    self_id=principal.user_id, org_ids=principal.admin_org_ids, limit=limit)
    return json_response(listing([_user(row) for row in rows]))


@router.get("/users/{user_id}", response_model=UserOut, summary="One user", responses=error_responses(401, 403, 404))
async def get_user(user_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    visible = principal.system or await tenants.user_visible(
        db, user_id, self_id=principal.user_id, org_ids=principal.admin_org_ids)
    row = await tenants.get_user(db, user_id) if visible else None
    if row is None:
        raise not_found("user", user_id, "user_id")
    return json_response(_user(row))


@router.patch("/users/{user_id}", response_model=UserOut,
              summary="Change a user: tier, budgets, system-admin flag (system)",
              responses=error_responses(400, 401, 403, 404, 409))
async def update_user(user_id: str, body: UpdateUserRequest, request: Request,
                      principal: Principal = Depends(system_principal)) -> Response:
    db = gateway_of(request).ports.database
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, ("tier_id", "is_system_admin"))
    if "tier_id" in fields:
        await require_tier(db, fields["tier_id"])
    if "is_system_admin" in fields:
        fields["is_system_admin"] = int(fields["is_system_admin"])
    try:
        row = await tenants.update_user(db, user_id, fields) if fields else await tenants.get_user(db, user_id)
    except DatabaseError as exc:
        if "UNIQUE" in str(exc):
            raise ConflictError("A user with this email exists.", param="email", code="email_taken") from None
        raise
    if row is None:
        raise not_found("user", user_id, "user_id")
    return json_response(_user(row))
