"""Gateway keys: create (shown once), list, read, change limits, revoke.

Who may: the system any key; an org admin the keys scoped to their org (for its members); a user their
own keys. Another tenant's key answers 404. Limits of an org key are the org admins' to change."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway.api.admin.common import gateway_of, key_answer, key_columns, listing, require_tier
from gateway.api.admin.schemas import (
    CreateKeyRequest, CreatedKeyOut, KeyList, KeyOut, UpdateKeyRequest, error_responses,
)
from gateway.api.admin_access import Principal, admin_principal, not_found, require_org_admin
from gateway.api.responses import json_response
from gateway.errors import InvalidRequestError, PermissionDeniedError
from gateway.ports import Database
from gateway.storage import keys as keys_sql
from gateway.storage import tenants
from gateway.timefmt import utc_text

router = APIRouter(prefix="/admin", tags=["Admin: keys"])


@router.post("/keys", status_code=201, response_model=CreatedKeyOut, summary="Create a gateway key",
             response_description="the key, with its secret `key` shown this once (only a hash is stored)",
             responses=error_responses(400, 401, 403, 404))
async def create_key(body: CreateKeyRequest, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    fields = body.model_dump(exclude_unset=True)
    if not principal.system and fields.get("tier_id") is not None:
        raise PermissionDeniedError("Only a system admin may set a key's tier.", param="tier_id",
                                    code="system_admin_only")
    if fields.get("user_id") is None and principal.user_id is not None:
        fields["user_id"] = principal.user_id  # the caller's own key (only the admin secret makes app keys)
    await _check_owner(db, principal, fields.get("user_id"), fields.get("org_id"))
    if fields.get("tier_id") is not None:
        await require_tier(db, fields["tier_id"])
    raw_key = keys_sql.generate_key()
    row = await keys_sql.create(db, "key_" + uuid.uuid4().hex, raw_key, key_columns(fields))
    return json_response({**key_answer(row), "key": raw_key}, status=201)


async def _check_owner(db: Database, principal: Principal, user_id: str | None, org_id: str | None) -> None:
    """A key belongs to a user (the system may make user-less app keys) and optionally an org the user is in."""
    if org_id is not None:
        require_org_admin(principal, org_id)
        if await tenants.get_org(db, org_id) is None:  # only the system reaches this for a missing org
            raise InvalidRequestError(f"Unknown organization '{org_id}'.", param="org_id", code="unknown_reference")
        if user_id is None:
            raise InvalidRequestError("An org key needs the user it belongs to.", param="user_id")
        if await tenants.role_of(db, org_id, user_id) is None:
            if not principal.system:
                raise not_found("user", user_id, "user_id")  # not in the admin's org: as if it did not exist
            if await tenants.get_user(db, user_id) is None:
                raise InvalidRequestError(f"Unknown user '{user_id}'.", param="user_id", code="unknown_reference")
            raise InvalidRequestError(f"User '{user_id}' is not a member of organization '{org_id}'.",
                                      param="user_id", code="not_a_member")
        return
    if user_id is None:
        return  # the system's app key
    if not principal.is_user(user_id):
        raise not_found("user", user_id, "user_id")  # a personal key for someone else: never
    if await tenants.get_user(db, user_id) is None:
        raise InvalidRequestError(f"Unknown user '{user_id}'.", param="user_id", code="unknown_reference")


@router.get("/keys", response_model=KeyList, summary="List the gateway keys the caller may see",
            response_description="newest first: all (system), own and administered orgs' keys (others)",
            responses=error_responses(400, 401, 403))
async def list_keys(
    request: Request,
    limit: int = Query(100, ge=1, le=1000),
    user_id: str | None = Query(None, description="only this user's keys"),
    org_id: str | None = Query(None, description="only this org's keys"),
    status: str | None = Query(None, pattern="^(active|revoked)$"),
    principal: Principal = Depends(admin_principal),
) -> Response:
    rows = await keys_sql.list_visible(
        gateway_of(request).ports.database, everything=principal.system, user_id=principal.user_id,
        org_ids=principal.admin_org_ids, filters={"user_id": user_id, "org_id": org_id, "status": status},
        limit=limit,
    )
    return json_response(listing([key_answer(row) for row in rows]))


async def _visible_key(request: Request, principal: Principal, key_id: str) -> dict:
    row = await keys_sql.get(gateway_of(request).ports.database, key_id)
    if row is None or not principal.can_see_key(row):
        raise not_found("key", key_id, "key_id")
    return row


@router.get("/keys/{key_id}", response_model=KeyOut, summary="One gateway key (never its secret)",
            responses=error_responses(401, 403, 404))
async def get_key(key_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    return json_response(key_answer(await _visible_key(request, principal, key_id)))


@router.patch("/keys/{key_id}", response_model=KeyOut, summary="Change a key's limits, expiry or name",
              response_description="the key as changed; the limits apply at once in this isolate and within "
                                   "KEY_CACHE_SECONDS everywhere", responses=error_responses(400, 401, 403, 404))
async def update_key(
    key_id: str, body: UpdateKeyRequest, request: Request, principal: Principal = Depends(admin_principal)
) -> Response:
    gateway = gateway_of(request)
    key = await _visible_key(request, principal, key_id)
    if not principal.can_limit_key(key):
        raise PermissionDeniedError("Only an admin of the key's organization may change an org key.",
                                    param="org_id", code="org_admin_only")
    fields = body.model_dump(exclude_unset=True)
    if "tier_id" in fields:
        if not principal.system:
            raise PermissionDeniedError("Only a system admin may set a key's tier.", param="tier_id",
                                        code="system_admin_only")
        if fields["tier_id"] is not None:
            await require_tier(gateway.ports.database, fields["tier_id"])
    if not fields:
        return json_response(key_answer(key))
    updated = await keys_sql.update(gateway.ports.database, key_id, key_columns(fields))
    if updated is None:
        raise not_found("key", key_id, "key_id")
    row, key_hash = updated
    gateway.authenticator.forget(key_hash)
    return json_response(key_answer(row))


@router.delete("/keys/{key_id}", response_model=KeyOut, summary="Revoke a gateway key",
               response_description="the revoked key (kept for the usage log); refused with 401 revoked_api_key "
                                    "at once in this isolate, within KEY_CACHE_SECONDS everywhere",
               responses=error_responses(401, 403, 404))
async def revoke_key(key_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    gateway = gateway_of(request)
    await _visible_key(request, principal, key_id)
    revoked = await keys_sql.revoke(gateway.ports.database, key_id, utc_text(gateway.ports.clock.now()))
    if revoked is None:
        raise not_found("key", key_id, "key_id")
    row, key_hash = revoked
    gateway.authenticator.forget(key_hash)
    return json_response(key_answer(row))
