"""Provider credentials in the admin API: write-only (the key goes in, only a masked hint comes out).

Who may touch which scope (api/admin_access.py's Principal):
- user: that user (or the system); org: an owner/admin of that org (or the system); tier and system: the system.
Listing shows what the principal may touch; another tenant's credential answers 404, as if it did not exist.
The owner sees `status` (active | invalid | disabled), `last_error` and `last_failed_at`: a key the provider
rejected is marked invalid there (pipeline/key_fallback.py); PATCH sets `disabled` or `active` again. `POST /admin/credentials/rotate` reseals rows
still under an old GATEWAY_ENCRYPTION_KEY key id (docs/credentials.md has the runbook).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from gateway.api.admin_access import Principal, admin_principal, system_principal
from gateway.api.responses import json_response
from gateway.core import Gateway
from gateway.crypto.keyring import aad_for
from gateway.crypto.rotation import reseal_batch
from gateway.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from gateway.ports import DatabaseError
from gateway.storage import catalog as catalog_sql
from gateway.storage import credentials as credentials_sql
from gateway.timefmt import utc_text

router = APIRouter(prefix="/admin/credentials", tags=["Admin: provider credentials"])

ROTATE_BATCH = 100


class CreateCredentialRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider_id: str = Field(min_length=1, max_length=64)
    scope: Literal["user", "org", "tier", "system"]
    user_id: str | None = Field(default=None, description="user scope: whose key (default: the caller)")
    org_id: str | None = Field(default=None, description="org scope: which org")
    tier_id: str | None = Field(default=None, description="tier scope: which tier")
    api_key: str = Field(min_length=1, max_length=4096, description="the provider key; never shown again")


class UpdateCredentialRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "disabled"] = Field(
        description="'disabled' takes the key out of the resolution; 'active' puts it back (also after 'invalid')"
    )


def masked_hint(api_key: str) -> str:
    """Enough to tell keys apart, never enough to use one: 'sk-…a1b2' (shorter keys show less)."""
    if len(api_key) >= 16:
        return f"{api_key[:3]}…{api_key[-4:]}"
    if len(api_key) >= 8:
        return f"…{api_key[-2:]}"
    return "…"


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


def _owner(body: CreateCredentialRequest, principal: Principal) -> dict[str, str | None]:
    """The owner columns of the new row, after the principal's right to write that scope is checked."""
    scope_fields = {"user": "user_id", "org": "org_id", "tier": "tier_id", "system": None}
    wanted = scope_fields[body.scope]
    for name in ("user_id", "org_id", "tier_id"):
        if name != wanted and getattr(body, name) is not None:
            raise InvalidRequestError(f"'{name}' does not apply to scope '{body.scope}'.", param=name)
    owner = {"user_id": None, "org_id": None, "tier_id": None}
    if body.scope == "user":
        user_id = body.user_id or principal.user_id
        if user_id is None:
            raise InvalidRequestError("Scope 'user' needs 'user_id'.", param="user_id")
        if not principal.is_user(user_id):
            raise PermissionDeniedError("Only that user or a system admin may set a user's credential.",
                                        code="credential_scope_forbidden")
        owner["user_id"] = user_id
    elif body.scope == "org":
        if body.org_id is None:
            raise InvalidRequestError("Scope 'org' needs 'org_id'.", param="org_id")
        if not principal.can_admin_org(body.org_id):
            raise PermissionDeniedError("Only an owner or admin of that org, or a system admin, may set its "
                                        "credential.", code="credential_scope_forbidden")
        owner["org_id"] = body.org_id
    else:
        if not principal.system:
            raise PermissionDeniedError(f"Only a system admin may set a '{body.scope}' credential.",
                                        code="credential_scope_forbidden")
        if body.scope == "tier":
            if body.tier_id is None:
                raise InvalidRequestError("Scope 'tier' needs 'tier_id'.", param="tier_id")
            owner["tier_id"] = body.tier_id
    return owner


def _may_see(principal: Principal, row: dict[str, Any]) -> bool:
    if principal.system:
        return True
    if row["scope"] == "user":
        return principal.is_user(row["user_id"])
    return row["scope"] == "org" and principal.can_admin_org(row["org_id"])


@router.post("", status_code=201, summary="Store a provider key (encrypted; answered masked, never shown again)")
async def create_credential(body: CreateCredentialRequest, request: Request,
                            principal: Principal = Depends(admin_principal)) -> Response:
    gateway = _gateway(request)
    owner = _owner(body, principal)
    api_key = body.api_key.strip()
    if not api_key or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in api_key):
        raise InvalidRequestError("'api_key' must be a non-empty key without control characters.", param="api_key")
    database = gateway.ports.database
    if not await catalog_sql.provider_exists(database, body.provider_id):
        raise InvalidRequestError(f"Unknown provider '{body.provider_id}'.", param="provider_id",
                                  code="unknown_provider")
    credential_id = "cred_" + uuid.uuid4().hex
    owner_id = owner["user_id"] or owner["org_id"] or owner["tier_id"]
    ciphertext, key_id = await gateway.credentials.sealer.seal(
        api_key, aad_for(credential_id, body.provider_id, body.scope, owner_id)
    )
    row = {"id": credential_id, "provider_id": body.provider_id, "scope": body.scope, **owner,
           "ciphertext": ciphertext, "encryption_key_id": key_id, "masked_hint": masked_hint(api_key)}
    try:
        saved = await credentials_sql.replace(database, row, utc_text(gateway.ports.clock.now()))
    except DatabaseError as exc:
        if "FOREIGN KEY" in str(exc):
            raise InvalidRequestError("user_id, org_id or tier_id names something that does not exist.",
                                      code="unknown_reference") from None
        raise
    gateway.credentials.invalidate()
    return json_response({"object": "provider_credential", **saved}, status=201)


@router.get("", summary="The provider credentials the caller may see (masked)")
async def list_credentials(request: Request, provider_id: str | None = Query(None),
                           principal: Principal = Depends(admin_principal)) -> Response:
    rows = await credentials_sql.visible(
        _gateway(request).ports.database, system=principal.system, user_id=principal.user_id,
        admin_org_ids=principal.admin_org_ids, provider_id=provider_id,
    )
    return json_response({"object": "list", "data": [{"object": "provider_credential", **row} for row in rows]})


async def _visible_credential(gateway: Gateway, principal: Principal, credential_id: str) -> dict:
    """The credential, if the principal may see it; else 404, as for an id that does not exist."""
    row = await credentials_sql.get(gateway.ports.database, credential_id)
    if row is None or not _may_see(principal, row):
        raise NotFoundError(f"No credential found with id '{credential_id}'.", param="credential_id",
                            code="credential_not_found")
    return row


@router.patch("/{credential_id}", summary="Disable a provider credential, or make it active again")
async def update_credential(credential_id: str, body: UpdateCredentialRequest, request: Request,
                            principal: Principal = Depends(admin_principal)) -> Response:
    gateway = _gateway(request)
    await _visible_credential(gateway, principal, credential_id)
    await credentials_sql.set_status(gateway.ports.database, credential_id, body.status,
                                     utc_text(gateway.ports.clock.now()))
    gateway.credentials.invalidate()
    return json_response({"object": "provider_credential", **await credentials_sql.get(gateway.ports.database,
                                                                                        credential_id)})


@router.delete("/{credential_id}", summary="Delete a provider credential")
async def delete_credential(credential_id: str, request: Request,
                            principal: Principal = Depends(admin_principal)) -> Response:
    gateway = _gateway(request)
    await _visible_credential(gateway, principal, credential_id)
    await credentials_sql.delete(gateway.ports.database, credential_id)
    gateway.credentials.invalidate()
    return json_response({"id": credential_id, "object": "provider_credential", "deleted": True})


@router.post("/rotate", summary="Reseal credentials under the current GATEWAY_ENCRYPTION_KEY key id")
async def rotate_credentials(request: Request, limit: int = Query(ROTATE_BATCH, ge=1, le=1000),
                             principal: Principal = Depends(system_principal)) -> Response:
    gateway = _gateway(request)
    outcome = await reseal_batch(gateway.ports.database, gateway.ports.clock, gateway.credentials.sealer, limit)
    gateway.credentials.invalidate()
    return json_response({"object": "credential_rotation", **outcome})
