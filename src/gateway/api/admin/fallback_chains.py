"""Fallback chains (docs/fallbacks.md): which models a failed request moves on to, per error category,
globally or per org. The system manages every row; an org's owners and admins read the global rows and
manage their org's (another org's row answers 404, a global row they may read but not change 403).
Every write invalidates this isolate's ChainRules, so the next request here already uses the new rules."""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway.api.admin.chain_schemas import CreateChainRequest, UpdateChainRequest
from gateway.api.admin.common import gateway_of, listing, refuse_nulls
from gateway.api.admin.schemas import error_responses
from gateway.api.admin_access import Principal, admin_principal, not_found, require_org_admin
from gateway.api.responses import json_response
from gateway.errors import ConflictError, InvalidRequestError, PermissionDeniedError
from gateway.pipeline.fallback_rules import is_auto, valid_auto
from gateway.pipeline.strategies import STRATEGIES
from gateway.ports import Database, DatabaseError
from gateway.storage import fallback_chains as chains_sql
from gateway.storage import tenants

router = APIRouter(prefix="/admin", tags=["Admin: fallback chains"])

_FIELDS = ("error_type", "model_pattern", "chain", "allow_workers_ai", "max_attempts")


def chain_answer(row: dict[str, Any]) -> dict[str, Any]:
    return {"object": "fallback_chain", **row, "chain": json.loads(row["chain"]),
            "allow_workers_ai": bool(row["allow_workers_ai"])}


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    stored = dict(fields)
    if "chain" in stored:
        stored["chain"] = json.dumps(stored["chain"])
    if "allow_workers_ai" in stored:
        stored["allow_workers_ai"] = int(stored["allow_workers_ai"])
    return stored


def _system_only(message: str, param: str | None = "org_id") -> PermissionDeniedError:
    return PermissionDeniedError(message, param=param, code="system_admin_only")


def _require_chain_admin(principal: Principal) -> None:
    """Chains are for the system and org admins (a plain user has no chain of their own to manage)."""
    if not principal.system and not principal.admin_org_ids:
        raise PermissionDeniedError("Only a system admin or an organization's owner or admin may manage fallback "
                                    "chains.", code="org_admin_only")


async def _check_chain(db: Database, chain: list[str]) -> None:
    """Each entry is "auto", "auto/<strategy>" or a model id the catalog has; the first one that is not is named."""
    for index, entry in enumerate(chain):
        if is_auto(entry) and not valid_auto(entry):
            raise InvalidRequestError(
                f"Invalid value for 'chain[{index}]': '{entry}' is not 'auto' or 'auto/<strategy>' with a strategy "
                f"of {' | '.join(STRATEGIES)}.", param=f"chain[{index}]", code="invalid_strategy")
    known = await chains_sql.existing_models(db, [entry for entry in chain if not is_auto(entry)])
    for index, entry in enumerate(chain):
        if not is_auto(entry) and entry not in known:
            raise InvalidRequestError(
                f"Invalid value for 'chain[{index}]': '{entry}' is not a model in the catalog (GET /admin/models).",
                param=f"chain[{index}]", code="unknown_model")


async def _check_scope_free(db: Database, org_id: str | None, error_type: str, model_pattern: str,
                            except_id: str | None = None) -> None:
    if await chains_sql.scope_taken(db, org_id, error_type, model_pattern, except_id):
        raise _scope_taken(org_id, error_type, model_pattern)


def _scope_taken(org_id: str | None, error_type: str, model_pattern: str) -> ConflictError:
    scope = f"organization '{org_id}'" if org_id else "the global scope"
    return ConflictError(
        f"{scope[0].upper()}{scope[1:]} already has a '{error_type}' chain for model_pattern '{model_pattern}'; "
        "change that one (PATCH) instead.", param="model_pattern", code="fallback_chain_exists")


async def _visible_chain(db: Database, principal: Principal, chain_id: str) -> dict[str, Any]:
    """The row, if the principal may see it: global rows for any chain admin, an org's for its admins. 404 for
    a missing row or an org the principal is not in; 403 for a plain member of the row's org."""
    _require_chain_admin(principal)
    row = await chains_sql.get_chain(db, chain_id)
    if row is None or (row["org_id"] is not None and not principal.is_member(row["org_id"])):
        raise not_found("fallback_chain", chain_id, "chain_id")
    if row["org_id"] is not None:
        require_org_admin(principal, row["org_id"])
    return row


async def _writable_chain(db: Database, principal: Principal, chain_id: str) -> dict[str, Any]:
    """As `_visible_chain`, and a global row only for the system (an org admin sees it: 403)."""
    row = await _visible_chain(db, principal, chain_id)
    if row["org_id"] is None and not principal.system:
        raise _system_only("Only a system admin may change a global fallback chain; create one for your "
                           "organization instead (it beats the global one).", param=None)
    return row


async def _unique_write(coro_factory, org_id: str | None, error_type: str, model_pattern: str) -> dict[str, Any]:
    """Run the write; a concurrent writer that took the scope since the check still answers 409."""
    try:
        return await coro_factory()
    except DatabaseError as exc:
        if "UNIQUE" in str(exc):
            raise _scope_taken(org_id, error_type, model_pattern) from None
        raise


@router.get("/fallback-chains", summary="Fallback chains: the global ones and the caller's orgs' (system: all)",
            response_description="every chain the caller may see, global first",
            responses=error_responses(401, 403, 404))
async def list_chains(request: Request, org_id: str | None = Query(
                          None, description="only the chains that apply to this org: the global ones and its own"),
                      principal: Principal = Depends(admin_principal)) -> Response:
    _require_chain_admin(principal)
    db = gateway_of(request).ports.database
    if org_id is not None:
        require_org_admin(principal, org_id)
        rows = await chains_sql.list_chains(db, everything=False, org_ids=(org_id,))
    else:
        rows = await chains_sql.list_chains(db, everything=principal.system, org_ids=principal.admin_org_ids)
    return json_response(listing([chain_answer(row) for row in rows]))


@router.get("/fallback-chains/{chain_id}", summary="One fallback chain", response_description="the chain",
            responses=error_responses(401, 403, 404))
async def get_chain(chain_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    return json_response(chain_answer(await _visible_chain(gateway_of(request).ports.database, principal, chain_id)))


@router.post("/fallback-chains", status_code=201, summary="Create a fallback chain (global: system; an org's: "
             "its admins)", response_description="the new chain", responses=error_responses(400, 401, 403, 404, 409))
async def create_chain(body: CreateChainRequest, request: Request,
                       principal: Principal = Depends(admin_principal)) -> Response:
    gateway = gateway_of(request)
    db = gateway.ports.database
    org_id = body.org_id
    if org_id is None:
        if not principal.system:
            raise _system_only("Only a system admin may create a global fallback chain; give your organization's "
                               "org_id.")
    else:
        require_org_admin(principal, org_id)
        if await tenants.get_org(db, org_id) is None:  # only the system reaches this for a missing org
            raise InvalidRequestError(f"Unknown organization '{org_id}'.", param="org_id", code="unknown_reference")
    fields = body.model_dump(include=set(_FIELDS))
    await _check_chain(db, fields["chain"])
    await _check_scope_free(db, org_id, body.error_type, body.model_pattern)
    row = await _unique_write(
        lambda: chains_sql.insert_chain(db, "fc_" + uuid.uuid4().hex, {"org_id": org_id, **_stored(fields)}),
        org_id, body.error_type, body.model_pattern)
    gateway.chain_rules.invalidate()
    return json_response(chain_answer(row), status=201)


@router.patch("/fallback-chains/{chain_id}", summary="Change a fallback chain (not its org)",
              response_description="the updated chain", responses=error_responses(400, 401, 403, 404, 409))
async def update_chain(chain_id: str, body: UpdateChainRequest, request: Request,
                       principal: Principal = Depends(admin_principal)) -> Response:
    gateway = gateway_of(request)
    db = gateway.ports.database
    row = await _writable_chain(db, principal, chain_id)
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, _FIELDS)
    if not fields:
        return json_response(chain_answer(row))
    if "chain" in fields:
        await _check_chain(db, fields["chain"])
    error_type = fields.get("error_type", row["error_type"])
    model_pattern = fields.get("model_pattern", row["model_pattern"])
    if "error_type" in fields or "model_pattern" in fields:
        await _check_scope_free(db, row["org_id"], error_type, model_pattern, except_id=chain_id)
    updated = await _unique_write(lambda: chains_sql.update_chain(db, chain_id, _stored(fields)),
                                  row["org_id"], error_type, model_pattern)
    gateway.chain_rules.invalidate()
    if updated is None:  # deleted by someone else since it was read
        raise not_found("fallback_chain", chain_id, "chain_id")
    return json_response(chain_answer(updated))


@router.delete("/fallback-chains/{chain_id}", status_code=204,
               summary="Delete a fallback chain (a deleted global default means: no fallback for that category)",
               responses=error_responses(401, 403, 404))
async def delete_chain(chain_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    gateway = gateway_of(request)
    db = gateway.ports.database
    await _writable_chain(db, principal, chain_id)
    await chains_sql.delete_chain(db, chain_id)
    gateway.chain_rules.invalidate()
    return Response(status_code=204)
