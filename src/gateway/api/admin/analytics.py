"""GET /admin/analytics/…: the seven views of d1_views.sql per tenant, and the usage rows as CSV
(docs/analytics.md). Every answer holds only the rows the principal may see (admin_access.py): the system
all, an org admin their orgs' rows, a user their own; another tenant's rows are simply not counted."""

from __future__ import annotations

import csv
import io
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response, StreamingResponse

from gateway.api.admin.common import gateway_of, normalize_time
from gateway.api.admin.schemas import error_responses
from gateway.api.admin_access import Principal, admin_principal
from gateway.api.responses import json_response
from gateway.errors import InvalidRequestError
from gateway.storage import analytics as sql
from gateway.storage.usage import USAGE_COLUMNS
from gateway.timefmt import utc_text

router = APIRouter(prefix="/admin/analytics", tags=["Admin: analytics"])

DEFAULT_RANGE_SECONDS = 7 * 86400
_TIME = "ISO 8601 or 'YYYY-MM-DD HH:MM:SS' (UTC when no offset)"


def scope_of(principal: Principal) -> sql.Scope:
    return sql.Scope(everything=principal.system, user_id=principal.user_id, org_ids=principal.admin_org_ids)


class RangeFilters:
    """The query parameters every usage report takes: a time range and the dimension filters."""

    def __init__(
        self,
        request: Request,
        since: str | None = Query(None, description=f"{_TIME}: rows at or after it (default: 7 days ago)"),
        until: str | None = Query(None, description=f"{_TIME}: rows before it (default: now)"),
        org_id: str | None = Query(None), user_id: str | None = Query(None), key_id: str | None = Query(None),
        model: str | None = Query(None, description="a model id, e.g. 'openai/gpt-4o-mini'"),
        provider: str | None = Query(None, description="a provider id, e.g. 'openai'"),
        tag_key: str | None = Query(None, description="only requests carrying this tag (usage_tags)"),
        tag_value: str | None = Query(None, description="… with this value (needs tag_key)"),
    ) -> None:
        now = gateway_of(request).ports.clock.now()  # the injected clock, as everywhere else
        until_text = normalize_time(until, "until") if until else utc_text(now)
        since_text = normalize_time(since, "since") if since else utc_text(now - DEFAULT_RANGE_SECONDS)
        if until_text < since_text:
            raise InvalidRequestError(f"Invalid value for 'until': {until_text} is before since {since_text}.",
                                      param="until")
        if tag_value is not None and tag_key is None:
            raise InvalidRequestError("'tag_value' needs 'tag_key'.", param="tag_value")
        dimensions = {"org_id": org_id, "user_id": user_id, "key_id": key_id, "model": model,
                      "provider": provider, "tag_key": tag_key, "tag_value": tag_value}
        self.value = sql.Filters(since=since_text, until=until_text,
                                 dimensions={k: v for k, v in dimensions.items() if v is not None})

    def echo(self, **more: Any) -> dict[str, Any]:
        return {"since": self.value.since, "until": self.value.until, **self.value.dimensions, **more}


async def _report(request: Request, query: tuple[str, list[Any]], filters: dict[str, Any]) -> Response:
    """Run a report's query; answer its rows with the filters it ran under."""
    rows = await sql.rows(gateway_of(request).ports.database, query)
    return json_response({"object": "list", "data": rows, "filters": filters})


_ERRORS = error_responses(400, 401, 403)


@router.get("/cost", summary="Cost and volume grouped by time, org, user, key, provider, model or tag",
            responses=_ERRORS)
async def cost(
    request: Request,
    group_by: str = Query("day", description=f"comma-separated, of: {', '.join(sql.GROUPS)}"),
    filters: RangeFilters = Depends(), principal: Principal = Depends(admin_principal),
) -> Response:
    names = tuple(name.strip() for name in group_by.split(",") if name.strip())
    unknown = [name for name in names if name not in sql.GROUPS]
    if unknown or not names or len(set(names)) != len(names):
        raise InvalidRequestError(
            f"Invalid value for 'group_by': {group_by!r}; use one or more (no repeats) of {', '.join(sql.GROUPS)}.",
            param="group_by")
    query = sql.cost_query(scope_of(principal), filters.value, names)
    return await _report(request, query, filters.echo(group_by=list(names)))


@router.get("/cost_by_day", summary="v_cost_by_day: per UTC day (or hour), org, provider and model",
            responses=_ERRORS)
async def cost_by_day(
    request: Request, interval: str = Query("day", description="day or hour"),
    filters: RangeFilters = Depends(), principal: Principal = Depends(admin_principal),
) -> Response:
    if interval not in ("day", "hour"):
        raise InvalidRequestError(f"Invalid value for 'interval': {interval!r}; use day or hour.", param="interval")
    query = sql.cost_query(scope_of(principal), filters.value, (interval, "org", "model"))
    return await _report(request, query, filters.echo(interval=interval))


@router.get("/cost_by_model", summary="v_cost_by_model: per provider and model over the range", responses=_ERRORS)
async def cost_by_model(request: Request, filters: RangeFilters = Depends(),
                        principal: Principal = Depends(admin_principal)) -> Response:
    query = sql.cost_by_model_query(scope_of(principal), filters.value)
    return await _report(request, query, filters.echo())


@router.get("/cost_by_org_user", summary="v_cost_by_org_user: per UTC month, org, user and key", responses=_ERRORS)
async def cost_by_org_user(request: Request, filters: RangeFilters = Depends(),
                           principal: Principal = Depends(admin_principal)) -> Response:
    query = sql.cost_query(scope_of(principal), filters.value, ("month", "org", "user", "key"))
    return await _report(request, query, filters.echo())


@router.get("/spend_per_hour", summary="v_spend_per_hour: per UTC hour, org and key", responses=_ERRORS)
async def spend_per_hour(request: Request, filters: RangeFilters = Depends(),
                         principal: Principal = Depends(admin_principal)) -> Response:
    query = sql.spend_per_hour_query(scope_of(principal), filters.value)
    return await _report(request, query, filters.echo())


@router.get("/error_patterns", summary="v_error_patterns: failures per UTC hour, provider, model and error type",
            responses=_ERRORS)
async def error_patterns(request: Request, filters: RangeFilters = Depends(),
                         principal: Principal = Depends(admin_principal)) -> Response:
    query = sql.error_patterns_query(scope_of(principal), filters.value)
    return await _report(request, query, filters.echo())


@router.get("/model_usage_latency", summary="v_model_usage_latency: per UTC day and model (averages, maxima)",
            responses=_ERRORS)
async def model_usage_latency(request: Request, filters: RangeFilters = Depends(),
                              principal: Principal = Depends(admin_principal)) -> Response:
    query = sql.model_usage_latency_query(scope_of(principal), filters.value)
    return await _report(request, query, filters.echo())


@router.get("/provider_health", summary="v_provider_health: per provider, the last hour and day", responses=_ERRORS)
async def provider_health(request: Request, provider: str | None = Query(None),
                          principal: Principal = Depends(admin_principal)) -> Response:
    now = gateway_of(request).ports.clock.now()
    query = sql.provider_health_query(scope_of(principal), utc_text(now), utc_text(now - 3600),
                                      utc_text(now - 86400), provider, principal.member_org_ids)
    return await _report(request, query, {"provider": provider} if provider else {})


def _csv_line(values: list[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


@router.get("/usage.csv", summary="The visible usage rows of a range as CSV (streamed)",
            response_class=StreamingResponse, responses=_ERRORS)
async def usage_csv(request: Request, filters: RangeFilters = Depends(),
                    principal: Principal = Depends(admin_principal)) -> Response:
    db = gateway_of(request).ports.database
    scope, value = scope_of(principal), filters.value

    async def lines() -> AsyncIterator[bytes]:
        yield _csv_line(list(USAGE_COLUMNS)).encode()
        async for page in sql.usage_pages(db, scope, value, USAGE_COLUMNS):
            yield "".join(_csv_line([row[c] for c in USAGE_COLUMNS]) for row in page).encode()

    name = f"usage_{value.since[:10]}_{value.until[:10]}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8",
                             headers={"content-disposition": f'attachment; filename="{name}"'})
