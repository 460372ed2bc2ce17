"""Alerting's admin API (docs/alerts.md): rules, webhooks, and the alerts they raised.

Who may do what: the system everything. An org's owners and admins read the global rules and manage their
org's rules (and its keys' rules) and webhooks, and see their org's alerts; a global rule they may read
but not change (403); another org's anything answers 404. Anyone else (a plain member, a user in no org)
gets 403. Global webhooks are the system's alone (they hear every alert, and their URLs are secrets).

A webhook's URL is a secret (a Slack incoming-webhook URL is a bearer credential): it is sealed with the
credentials' keyring and every answer shows it masked (`url`: scheme, host, the path's last 4 characters).
Its signing secret is answered once, on creation and on rotate-secret (pipeline/webhook_signing.py). Targets
are checked by pipeline/webhook_targets.py (https; no private or loopback address unless a setting says so).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from gateway.api.admin.alert_schemas import (CreateRuleRequest, CreateWebhookRequest, UpdateRuleRequest,
                                             UpdateWebhookRequest)
from gateway.api.admin.common import gateway_of, listing, refuse_nulls
from gateway.api.admin.schemas import error_responses
from gateway.api.admin_access import Principal, admin_principal, not_found, require_org_admin
from gateway.api.responses import json_response
from gateway.crypto.keyring import EncryptionConfigError, Sealer, UnreadableCredential
from gateway.errors import InvalidRequestError, PermissionDeniedError
from gateway.pipeline.alerts import rule_problem
from gateway.pipeline.webhook_secrets import open_webhook, require_configured, sealed_columns
from gateway.pipeline.webhook_signing import new_secret
from gateway.pipeline.webhook_targets import RefusedTarget, TargetPolicy, check_target, masked_url
from gateway.ports import Database
from gateway.storage import alerts as alerts_sql
from gateway.storage import keys as keys_sql
from gateway.storage import tenants

router = APIRouter(prefix="/admin/alerts", tags=["Admin: alerts"])

_RULE_FIELDS = ("severity", "threshold", "window_minutes", "params", "enabled")
_WEBHOOK_FIELDS = ("url", "format", "enabled")


def _require_alert_admin(principal: Principal) -> None:
    if not principal.system and not principal.admin_org_ids:
        raise PermissionDeniedError("Only a system admin or an organization's owner or admin may manage alerts.",
                                    code="org_admin_only")


def _system_only(message: str, param: str | None = "org_id") -> PermissionDeniedError:
    return PermissionDeniedError(message, param=param, code="system_admin_only")


def rule_answer(row: dict[str, Any]) -> dict[str, Any]:
    return {"object": "alert_rule", **row, "params": json.loads(row["params"]) if row["params"] else {},
            "enabled": bool(row["enabled"])}


def webhook_answer(row: dict[str, Any], signing_secret: str | None = None) -> dict[str, Any]:
    """The row with its URL masked (a row not sealed yet is masked from its plain URL); the signing secret
    only when it was just made."""
    shown = {"object": "alert_webhook", "id": row["id"], "org_id": row["org_id"],
             "url": row["url_hint"] or masked_url(row["url"]), "format": row["format"],
             "enabled": bool(row["enabled"]), "encryption_key_id": row["encryption_key_id"],
             "created_at": row["created_at"]}
    if signing_secret is not None:
        shown["signing_secret"] = signing_secret
    return shown


def alert_answer(row: dict[str, Any]) -> dict[str, Any]:
    return {"object": "alert", **row}


def _check_rule(kind: str, threshold: float, params: dict[str, Any] | None, scoped: bool,
                keyed: bool = False) -> None:
    problem = rule_problem(kind, threshold, params, scoped)
    if problem is not None:
        field, why = problem
        field = "key_id" if field == "org_id" and keyed else field
        raise InvalidRequestError(f"Invalid value for '{field}': {why}.", param=field)


def target_policy(request: Request) -> TargetPolicy:
    settings = gateway_of(request).settings
    return TargetPolicy(allow_http=settings.alert_webhook_allow_http,
                        allow_private=settings.alert_webhook_allow_private)


def _check_url(url: str, policy: TargetPolicy) -> None:
    try:
        check_target(url, policy)
    except RefusedTarget as refused:
        raise InvalidRequestError(f"Invalid value for 'url': {refused}.", param="url") from None


async def _visible(db: Database, principal: Principal, table: str, columns: str, row_id: str, kind: str,
                   param: str, global_visible: bool) -> dict[str, Any]:
    """The row if the principal may see it; 404 for a missing row and another org's; 403 for a plain member."""
    _require_alert_admin(principal)
    row = await alerts_sql.get_row(db, table, columns, row_id)
    if row is None or (row["org_id"] is None and not (global_visible or principal.system)) or (
            row["org_id"] is not None and not principal.is_member(row["org_id"])):
        raise not_found(kind, row_id, param)
    if row["org_id"] is not None:
        require_org_admin(principal, row["org_id"])
    return row


async def _visible_rule(db: Database, principal: Principal, rule_id: str) -> dict[str, Any]:
    """An alert rule the principal may see: global rules are visible to every alert admin."""
    return await _visible(db, principal, "alert_rules", alerts_sql.RULE_COLUMNS, rule_id, "alert_rule", "rule_id",
                          global_visible=True)


async def _visible_webhook(db: Database, principal: Principal, webhook_id: str) -> dict[str, Any]:
    """A webhook the principal may see: global ones are the system's alone (their URLs are secrets)."""
    return await _visible(db, principal, "webhooks", alerts_sql.WEBHOOK_COLUMNS, webhook_id, "webhook",
                          "webhook_id", global_visible=False)


def _writable(principal: Principal, row: dict[str, Any], what: str) -> None:
    if row["org_id"] is None and not principal.system:
        raise _system_only(f"Only a system admin may change a global {what}; create one for your organization.",
                           param=None)


async def _rule_scope(db: Database, principal: Principal, body: CreateRuleRequest) -> str | None:
    """The new rule's org: none (global, system), the org's (its admins), a key's org (the key's visible to
    the system or its org's admins; a personal key's rule is the system's)."""
    if body.key_id is not None:
        key = await keys_sql.get(db, body.key_id)
        if key is None or not (principal.system or (key["org_id"] and principal.can_admin_org(key["org_id"]))):
            raise not_found("key", body.key_id, "key_id")
        if body.org_id is not None and body.org_id != key["org_id"]:
            raise InvalidRequestError(f"Invalid value for 'org_id': key '{body.key_id}' is not in organization "
                                      f"'{body.org_id}' (leave org_id out: a key's rule takes its org).",
                                      param="org_id")
        return key["org_id"]
    if body.org_id is None:
        if not principal.system:
            raise _system_only("Only a system admin may create a global alert rule; give your organization's org_id.")
        return None
    require_org_admin(principal, body.org_id)
    if await tenants.get_org(db, body.org_id) is None:  # only the system reaches this for a missing org
        raise InvalidRequestError(f"Unknown organization '{body.org_id}'.", param="org_id", code="unknown_reference")
    return body.org_id


# --- rules ----------------------------------------------------------------------------------------

@router.get("/rules", summary="Alert rules: the global ones and the caller's orgs' (system: all)",
            response_description="every rule the caller may see, global first", responses=error_responses(401, 403))
async def list_rules(request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    _require_alert_admin(principal)
    rows = await alerts_sql.list_rules(gateway_of(request).ports.database, everything=principal.system,
                                       org_ids=principal.admin_org_ids)
    return json_response(listing([rule_answer(row) for row in rows]))


@router.post("/rules", status_code=201, summary="Create an alert rule (global: system; an org's or its keys': "
             "its admins)", response_description="the new rule", responses=error_responses(400, 401, 403, 404))
async def create_rule(body: CreateRuleRequest, request: Request,
                      principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    _require_alert_admin(principal)
    org_id = await _rule_scope(db, principal, body)
    _check_rule(body.kind, body.threshold, body.params, scoped=org_id is not None or body.key_id is not None,
                keyed=body.key_id is not None)
    row = await alerts_sql.insert_row(db, "alert_rules", alerts_sql.RULE_COLUMNS, {
        "id": "ar_" + uuid.uuid4().hex, "org_id": org_id, "key_id": body.key_id, "kind": body.kind,
        "severity": body.severity, "threshold": body.threshold, "window_minutes": body.window_minutes,
        "params": json.dumps(body.params) if body.params else None, "enabled": int(body.enabled)})
    _rules_changed(request)
    return json_response(rule_answer(row), status=201)


@router.get("/rules/{rule_id}", summary="One alert rule", response_description="the rule",
            responses=error_responses(401, 403, 404))
async def get_rule(rule_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    row = await _visible_rule(gateway_of(request).ports.database, principal, rule_id)
    return json_response(rule_answer(row))


@router.patch("/rules/{rule_id}", summary="Change an alert rule (not its kind or scope)",
              response_description="the updated rule", responses=error_responses(400, 401, 403, 404))
async def update_rule(rule_id: str, body: UpdateRuleRequest, request: Request,
                      principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    row = await _visible_rule(db, principal, rule_id)
    _writable(principal, row, "alert rule")
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, ("severity", "threshold", "window_minutes", "enabled"))
    if not fields:
        return json_response(rule_answer(row))
    params = fields["params"] if "params" in fields else (json.loads(row["params"]) if row["params"] else None)
    _check_rule(row["kind"], fields.get("threshold", row["threshold"]), params,
                scoped=row["org_id"] is not None or row["key_id"] is not None)
    if "params" in fields:
        fields["params"] = json.dumps(fields["params"]) if fields["params"] else None
    if "enabled" in fields:
        fields["enabled"] = int(fields["enabled"])
    updated = await alerts_sql.update_row(db, "alert_rules", alerts_sql.RULE_COLUMNS, rule_id, fields, touch=True)
    if updated is None:
        raise not_found("alert_rule", rule_id, "rule_id")
    _rules_changed(request)
    return json_response(rule_answer(updated))


@router.delete("/rules/{rule_id}", status_code=204, summary="Delete an alert rule (and its alerts' history)",
               responses=error_responses(401, 403, 404))
async def delete_rule(rule_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    row = await _visible_rule(db, principal, rule_id)
    _writable(principal, row, "alert rule")
    await alerts_sql.delete_row(db, "alert_rules", rule_id)
    _rules_changed(request)
    return Response(status_code=204)


def _rules_changed(request: Request) -> None:
    """This isolate's request-path spend check re-reads the rules at once (pipeline/spend_watch.py)."""
    watch = gateway_of(request).spend_watch
    if watch is not None:
        watch.rules_changed()


# --- webhooks -------------------------------------------------------------------------------------

@router.get("/webhooks", summary="Webhooks: the caller's orgs' (system: all, global ones included)",
            response_description="the webhooks", responses=error_responses(401, 403))
async def list_webhooks(request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    _require_alert_admin(principal)
    rows = await alerts_sql.list_webhooks(gateway_of(request).ports.database, everything=principal.system,
                                          org_ids=principal.admin_org_ids)
    return json_response(listing([webhook_answer(row) for row in rows]))


@router.post("/webhooks", status_code=201, summary="Add a webhook (global: system; an org's: its admins)",
             response_description="the new webhook", responses=error_responses(400, 401, 403, 404))
async def create_webhook(body: CreateWebhookRequest, request: Request,
                         principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    _require_alert_admin(principal)
    if body.org_id is None:
        if not principal.system:
            raise _system_only("Only a system admin may add a global webhook; give your organization's org_id.")
    else:
        require_org_admin(principal, body.org_id)
        if await tenants.get_org(db, body.org_id) is None:
            raise InvalidRequestError(f"Unknown organization '{body.org_id}'.", param="org_id",
                                      code="unknown_reference")
    _check_url(body.url, target_policy(request))
    webhook_id, secret = "wh_" + uuid.uuid4().hex, new_secret()
    sealed = await sealed_columns(gateway_of(request).credentials.sealer, webhook_id, body.org_id, body.url.strip(),
                                  secret)
    row = await alerts_sql.insert_row(db, "webhooks", alerts_sql.WEBHOOK_COLUMNS, {
        "id": webhook_id, "org_id": body.org_id, **sealed, "format": body.format, "enabled": int(body.enabled)})
    return json_response(webhook_answer(row, signing_secret=secret), status=201)


@router.get("/webhooks/{webhook_id}", summary="One webhook (its URL masked)", response_description="the webhook",
            responses=error_responses(401, 403, 404))
async def get_webhook(webhook_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    row = await _visible_webhook(gateway_of(request).ports.database, principal, webhook_id)
    return json_response(webhook_answer(row))


@router.patch("/webhooks/{webhook_id}", summary="Change a webhook (not its org)",
              response_description="the updated webhook", responses=error_responses(400, 401, 403, 404))
async def update_webhook(webhook_id: str, body: UpdateWebhookRequest, request: Request,
                         principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    row = await _visible_webhook(db, principal, webhook_id)
    fields = body.model_dump(exclude_unset=True)
    refuse_nulls(fields, _WEBHOOK_FIELDS)
    new_signing_secret = None
    if "url" in fields:
        _check_url(fields["url"], target_policy(request))
        # A new URL is sealed with the webhook's secret; a row without a readable one (not sealed yet, or
        # under a key id no longer in the keyring) gets a new secret, answered here once.
        sealer = gateway_of(request).credentials.sealer
        require_configured(sealer)
        secret = await _current_secret(db, sealer, webhook_id)
        if secret is None:
            secret = new_signing_secret = new_secret()
        fields.update(await sealed_columns(sealer, webhook_id, row["org_id"], fields.pop("url").strip(), secret))
    if "enabled" in fields:
        fields["enabled"] = int(fields["enabled"])
    if not fields:
        return json_response(webhook_answer(row))
    updated = await alerts_sql.update_row(db, "webhooks", alerts_sql.WEBHOOK_COLUMNS, webhook_id, fields, touch=False)
    if updated is None:
        raise not_found("webhook", webhook_id, "webhook_id")
    return json_response(webhook_answer(updated, signing_secret=new_signing_secret))


async def _current_secret(db: Database, sealer: Sealer, webhook_id: str) -> str | None:
    stored = await alerts_sql.sealed_webhook(db, webhook_id)
    if stored is None or not stored["url_ciphertext"]:
        return None
    try:
        return (await open_webhook(sealer, stored)).secret
    except UnreadableCredential:
        return None


@router.post("/webhooks/{webhook_id}/rotate-secret", summary="Replace a webhook's signing secret (answered once)",
             response_description="the webhook with its new signing_secret",
             responses=error_responses(401, 403, 404))
async def rotate_webhook_secret(webhook_id: str, request: Request,
                                principal: Principal = Depends(admin_principal)) -> Response:
    """From this answer on, deliveries are signed with the new secret only (the receiver switches at once)."""
    db = gateway_of(request).ports.database
    row = await _visible_webhook(db, principal, webhook_id)
    sealer = gateway_of(request).credentials.sealer
    require_configured(sealer)
    stored = await alerts_sql.sealed_webhook(db, webhook_id)
    if stored is None:  # deleted meanwhile
        raise not_found("webhook", webhook_id, "webhook_id")
    try:
        opened = await open_webhook(sealer, stored)
    except UnreadableCredential:
        raise EncryptionConfigError(f"Webhook '{webhook_id}' cannot be opened: the key that sealed it "
                                    f"('{row['encryption_key_id']}') is not in GATEWAY_ENCRYPTION_KEY. Set its "
                                    "url again (PATCH) to seal it under the current key.") from None
    secret = new_secret()
    fields = await sealed_columns(sealer, webhook_id, row["org_id"], opened.url, secret)
    updated = await alerts_sql.update_row(db, "webhooks", alerts_sql.WEBHOOK_COLUMNS, webhook_id, fields, touch=False)
    if updated is None:
        raise not_found("webhook", webhook_id, "webhook_id")
    return json_response(webhook_answer(updated, signing_secret=secret))


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook (and its delivery records)",
               responses=error_responses(401, 403, 404))
async def delete_webhook(webhook_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    await _visible_webhook(db, principal, webhook_id)
    await alerts_sql.delete_row(db, "webhooks", webhook_id)
    return Response(status_code=204)


# --- alerts ---------------------------------------------------------------------------------------

@router.get("", summary="Alerts the caller may see, newest first (system: all; org admins: their orgs')",
            response_description="the alerts", responses=error_responses(400, 401, 403))
async def list_alerts(request: Request, status: str | None = Query(None, pattern="^(firing|resolved)$",
                                                                   description="firing | resolved"),
                      limit: int = Query(100, ge=1, le=1000),
                      principal: Principal = Depends(admin_principal)) -> Response:
    _require_alert_admin(principal)
    rows = await alerts_sql.list_alerts(gateway_of(request).ports.database, everything=principal.system,
                                        org_ids=principal.admin_org_ids, status=status, limit=limit)
    return json_response(listing([alert_answer(row) for row in rows]))


@router.get("/{alert_id}", summary="One alert with its webhook deliveries and every attempt",
            response_description="the alert", responses=error_responses(401, 403, 404))
async def get_alert(alert_id: str, request: Request, principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    _require_alert_admin(principal)
    row = await alerts_sql.get_alert(db, alert_id)
    if row is None or not (principal.system or (row["org_id"] is not None and principal.can_admin_org(row["org_id"]))):
        raise not_found("alert", alert_id, "alert_id")
    deliveries = await alerts_sql.deliveries_of(db, [alert_id])
    attempts = await alerts_sql.attempts_of(db, [d["id"] for d in deliveries])
    for delivery in deliveries:
        delivery["attempt_log"] = [a for a in attempts if a["delivery_id"] == delivery["id"]]
    return json_response({**alert_answer(row), "deliveries": deliveries})
