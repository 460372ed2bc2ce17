"""Organizations and their memberships.

The system creates orgs and may change anything; an org's owners and admins manage its memberships
and its budgets; members may read the org. An org the caller is not in answers 404."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway.api.admin.common import gateway_of, listing, refuse_nulls, require_tier
from gateway.api.admin.schemas import (
    CreateOrgRequest, MemberList, MemberOut, MembershipRequest, OrgList, OrgOut, UpdateOrgRequest, error_responses,
)
from gateway.api.admin_access import (
    Principal, admin_principal, not_found, require_org_admin, require_org_member, system_principal,
)
from gateway.api.responses import json_response
from gateway.errors import ConflictError, PermissionDeniedError
from gateway.ports import Database, DatabaseError
from gateway.storage import keys as keys_sql
from gateway.storage import tenants
from gateway.timefmt import utc_text

router = APIRouter(prefix="/admin", tags=["Admin: organizations"])


@router.post("/orgs", status_code=201, response_model=OrgOut, summary="Create an organization (system)",
             responses=error_responses(400, 401, 403, 409))
async def create_org(body: CreateOrgRequest, request: Request, principal: Principal = Depends(system_principal)) -> Response:
    db = gateway_of(request).ports.database
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, ("tier_id",))
    if "tier_id" in fields:
        await require_tier(db, fields["tier_id"])
    try:
        row = await tenants.insert_org(db, "org_" + uuid.uuid4().hex, fields)
    except DatabaseError as exc:
        if "UNIQUE" in str(exc):
            raise ConflictError(f"An organization with slug '{body.slug}' exists.", param="slug",
                                code="slug_taken") from None
        raise
    return json_response(row, status=201)


@router.get("/orgs", response_model=OrgList, summary="The organizations the caller belongs to (system: all)",
            responses=error_responses(400, 401, 403))
async def list_orgs(request: Request, limit: int = Query(100, ge=1, le=1000),
                    principal: Principal = Depends(admin_principal)) -> Response:
    rows = await tenants.list_orgs(gateway_of(request).ports.database, everything=principal.system,
                                   org_ids=principal.member_org_ids, limit=limit)
    return json_response(listing(rows))


async def _org(db: Database, principal: Principal, org_id: str) -> dict:
    require_org_member(principal, org_id)
    row = await tenants.get_org(db, org_id)
    if row is None:
        raise not_found("organization", org_id, "org_id")
    return row


@router.get("/orgs/{org_id}", response_model=OrgOut, summary="One organization (its members may read it)",
            responses=error_responses(401, 403, 404))
async def get_org(org_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    return json_response(await _org(gateway_of(request).ports.database, principal, org_id))


@router.patch("/orgs/{org_id}", response_model=OrgOut,
              summary="Change an organization: its budgets (org admins), name, tier (system)",
              responses=error_responses(400, 401, 403, 404))
async def update_org(org_id: str, body: UpdateOrgRequest, request: Request,
                     principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    await _org(db, principal, org_id)
    require_org_admin(principal, org_id)
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, ("name", "tier_id"))
    if "tier_id" in fields:
        if not principal.system:
            raise PermissionDeniedError("Only a system admin may change an organization's tier.", param="tier_id",
                                        code="system_admin_only")
        await require_tier(db, fields["tier_id"])
    row = await tenants.update_org(db, org_id, fields) if fields else await tenants.get_org(db, org_id)
    if row is None:
        raise not_found("organization", org_id, "org_id")
    return json_response(row)


@router.get("/orgs/{org_id}/members", response_model=MemberList, summary="An organization's memberships",
            responses=error_responses(401, 403, 404))
async def list_members(org_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    await _org(db, principal, org_id)
    require_org_admin(principal, org_id)
    return json_response(listing(await tenants.list_members(db, org_id)))


@router.put("/orgs/{org_id}/members/{user_id}", response_model=MemberOut,
            summary="Add a user to an organization or change their role",
            response_description="the membership; only owners (or the system) grant or take away 'owner', "
                                 "and the last owner stays", responses=error_responses(400, 401, 403, 404, 409))
async def put_member(org_id: str, user_id: str, body: MembershipRequest, request: Request,
                     principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    await _org(db, principal, org_id)
    require_org_admin(principal, org_id)
    if await tenants.get_user(db, user_id) is None:
        raise not_found("user", user_id, "user_id")
    current = await tenants.role_of(db, org_id, user_id)
    await _check_owner_change(db, principal, org_id, current, body.role)
    return json_response(await tenants.upsert_member(db, org_id, user_id, body.role))


@router.delete("/orgs/{org_id}/members/{user_id}", status_code=204,
               summary="Remove a user from an organization (their keys scoped to it are revoked)",
               responses=error_responses(401, 403, 404, 409))
async def delete_member(org_id: str, user_id: str, request: Request,
                        principal: Principal = Depends(admin_principal)) -> Response:
    gateway = gateway_of(request)
    db = gateway.ports.database
    await _org(db, principal, org_id)
    require_org_admin(principal, org_id)
    current = await tenants.role_of(db, org_id, user_id)
    if current is None:
        raise not_found("user", user_id, "user_id")
    await _check_owner_change(db, principal, org_id, current, None)
    await tenants.delete_member(db, org_id, user_id)
    # An org key's user must be a member: a user who leaves loses the org's keys at once.
    for key_hash in await keys_sql.revoke_org_keys_of(db, org_id, user_id, utc_text(gateway.ports.clock.now())):
        gateway.authenticator.forget(key_hash)
    return Response(status_code=204)


async def _check_owner_change(db: Database, principal: Principal, org_id: str, current: str | None,
                              new: str | None) -> None:
    if "owner" not in (current, new) or current == new:
        return
    if not principal.system and principal.org_roles.get(org_id) != "owner":
        raise PermissionDeniedError("Only an owner may grant or take away the owner role.", param="role",
                                    code="owner_only")
    if current == "owner" and await tenants.owner_count(db, org_id) <= 1:
        raise ConflictError("An organization keeps at least one owner.", param="role", code="last_owner")
