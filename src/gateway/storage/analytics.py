"""Analytics over usage_log for one principal (docs/analytics.md).

Each report has the definition of one view of d1_views.sql, but is computed from usage_log directly, because
the views aggregate away the tenant columns (only v_cost_by_day / v_cost_by_org_user / v_spend_per_hour keep
org_id, none keeps user_id) and count a fallback's failed attempts as requests. Here every query:
- keeps only the rows the principal may see (`Scope`: all, or `user_id = me OR org_id IN my admin orgs`);
- bounds `created_at` to [since, until) so the created_at indexes are used;
- counts requests from the request rows (`attempt_of IS NULL`), failed attempts separately; sums cost over
  all rows (a failed attempt costs 0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from gateway.ports import Database

# A usage row that is a request, not a failed earlier attempt of one (docs/fallbacks.md).
_REQUEST = "u.attempt_of IS NULL"

REQUESTS = f"SUM(CASE WHEN {_REQUEST} THEN 1 ELSE 0 END) AS requests"
ERRORS = f"SUM(CASE WHEN {_REQUEST} AND u.status = 'error' THEN 1 ELSE 0 END) AS errors"
FAILED_ATTEMPTS = "SUM(CASE WHEN u.attempt_of IS NOT NULL THEN 1 ELSE 0 END) AS failed_attempts"
COST = "TOTAL(u.cost_usd) AS cost_usd"
TOKENS = (
    "SUM(u.input_tokens) AS input_tokens",
    "SUM(u.cached_input_tokens) AS cached_input_tokens",
    "SUM(u.output_tokens) AS output_tokens",
    "SUM(u.reasoning_tokens) AS reasoning_tokens",
)
NEURONS = "TOTAL(u.neurons) AS neurons"

# group_by names of the cost report -> (select expressions, group expressions). Tags need the usage_tags join.
GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "day": (("substr(u.created_at, 1, 10) AS day",), ("substr(u.created_at, 1, 10)",)),
    "hour": (("substr(u.created_at, 1, 13) AS hour",), ("substr(u.created_at, 1, 13)",)),
    "month": (("substr(u.created_at, 1, 7) AS month",), ("substr(u.created_at, 1, 7)",)),
    "org": (("u.org_id AS org_id",), ("u.org_id",)),
    "user": (("u.user_id AS user_id",), ("u.user_id",)),
    "key": (("u.key_id AS key_id",), ("u.key_id",)),
    "provider": (("u.provider_id AS provider_id",), ("u.provider_id",)),
    "model": (("u.provider_id AS provider_id", "u.model_id AS model_id"), ("u.provider_id", "u.model_id")),
    "tag": (("t.tag_key AS tag_key", "t.tag_value AS tag_value"), ("t.tag_key", "t.tag_value")),
}
# A failed attempt's tags are its request's: usage_tags rows are keyed by the request's id.
_TAG_JOIN = "JOIN usage_tags AS t ON t.request_id = COALESCE(u.attempt_of, u.request_id)"


@dataclass(frozen=True)
class Scope:
    """Whose rows: everything, or a user's own rows plus the rows of the orgs they administer."""

    everything: bool
    user_id: str | None = None
    org_ids: tuple[str, ...] = ()

    def where(self) -> tuple[str | None, list[Any]]:
        if self.everything:
            return None, []
        terms, params = [], []
        if self.user_id is not None:
            terms.append("u.user_id = ?")
            params.append(self.user_id)
        if self.org_ids:
            terms.append(f"u.org_id IN ({', '.join('?' for _ in self.org_ids)})")
            params.extend(self.org_ids)
        return f"({' OR '.join(terms) or '0'})", params


@dataclass(frozen=True)
class Filters:
    """The time range [since, until) as database UTC text, and optional dimension filters."""

    since: str
    until: str
    dimensions: dict[str, str] = field(default_factory=dict)  # org_id, user_id, key_id, model, provider, tag_*


_DIMENSION_SQL = {
    "org_id": "u.org_id = ?",
    "user_id": "u.user_id = ?",
    "key_id": "u.key_id = ?",
    "model": "u.model_id = ?",
    "provider": "u.provider_id = ?",
}


def _where(scope: Scope, filters: Filters, extra: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    terms = ["u.created_at >= ?", "u.created_at < ?"]
    params: list[Any] = [filters.since, filters.until]
    visible, visible_params = scope.where()
    if visible is not None:
        terms.append(visible)
        params.extend(visible_params)
    for name, condition in _DIMENSION_SQL.items():
        if filters.dimensions.get(name) is not None:
            terms.append(condition)
            params.append(filters.dimensions[name])
    tag_key = filters.dimensions.get("tag_key")
    if tag_key is not None:
        tag_value = filters.dimensions.get("tag_value")
        matching = "SELECT request_id FROM usage_tags WHERE tag_key = ?" + (" AND tag_value = ?" if tag_value else "")
        terms.append(f"COALESCE(u.attempt_of, u.request_id) IN ({matching})")
        params.extend([tag_key, tag_value] if tag_value else [tag_key])
    terms.extend(extra)
    return " AND ".join(terms), params


def cost_query(scope: Scope, filters: Filters, group_by: tuple[str, ...]) -> tuple[str, list[Any]]:
    """Cost and volume grouped by the named dimensions (GROUPS), ordered by them."""
    selects = [expression for name in group_by for expression in GROUPS[name][0]]
    groups = [expression for name in group_by for expression in GROUPS[name][1]]
    where, params = _where(scope, filters)
    join = f" {_TAG_JOIN}" if "tag" in group_by else ""
    sql = (
        f"SELECT {', '.join([*selects, REQUESTS, ERRORS, FAILED_ATTEMPTS, *TOKENS, NEURONS, COST])} "
        f"FROM usage_log AS u{join} WHERE {where}"
        + (f" GROUP BY {', '.join(groups)} ORDER BY {', '.join(groups)}" if groups else "")
    )
    return sql, params


def cost_by_model_query(scope: Scope, filters: Filters) -> tuple[str, list[Any]]:
    """v_cost_by_model over the range: per provider and model, with the catalog's display name."""
    where, params = _where(scope, filters)
    sql = (
        "SELECT u.provider_id AS provider_id, u.model_id AS model_id, m.display_name AS display_name, "
        f"{REQUESTS}, {ERRORS}, {FAILED_ATTEMPTS}, {', '.join(TOKENS)}, {COST}, "
        f"TOTAL(u.cost_usd) / NULLIF(SUM(CASE WHEN {_REQUEST} THEN 1 ELSE 0 END), 0) AS avg_cost_usd_per_request, "
        "MIN(u.created_at) AS first_request_at, MAX(u.created_at) AS last_request_at "
        f"FROM usage_log AS u LEFT JOIN models AS m ON m.id = u.model_id WHERE {where} "
        "GROUP BY u.provider_id, u.model_id ORDER BY cost_usd DESC, u.provider_id, u.model_id"
    )
    return sql, params


def spend_per_hour_query(scope: Scope, filters: Filters) -> tuple[str, list[Any]]:
    """v_spend_per_hour: per UTC hour, org and key."""
    where, params = _where(scope, filters)
    sql = (
        "SELECT substr(u.created_at, 1, 13) AS hour, u.org_id AS org_id, u.key_id AS key_id, "
        f"{COST}, {REQUESTS} FROM usage_log AS u WHERE {where} "
        "GROUP BY substr(u.created_at, 1, 13), u.org_id, u.key_id ORDER BY hour, org_id, key_id"
    )
    return sql, params


def error_patterns_query(scope: Scope, filters: Filters) -> tuple[str, list[Any]]:
    """v_error_patterns: failed rows per UTC hour, provider, model and error type. `errors` counts every
    failed row (failed requests and failed attempts of requests that a fallback may have saved);
    `failed_requests` only the requests that failed in the end."""
    where, params = _where(scope, filters, ("u.status = 'error'",))
    sql = (
        "SELECT substr(u.created_at, 1, 13) AS hour, u.provider_id AS provider_id, u.model_id AS model_id, "
        "COALESCE(u.error_type, 'unknown') AS error_type, COUNT(*) AS errors, "
        f"SUM(CASE WHEN {_REQUEST} THEN 1 ELSE 0 END) AS failed_requests, {FAILED_ATTEMPTS}, "
        f"MAX(u.created_at) AS last_seen_at FROM usage_log AS u WHERE {where} "
        "GROUP BY substr(u.created_at, 1, 13), u.provider_id, u.model_id, COALESCE(u.error_type, 'unknown') "
        "ORDER BY hour, errors DESC, provider_id, model_id, error_type"
    )
    return sql, params


def model_usage_latency_query(scope: Scope, filters: Filters) -> tuple[str, list[Any]]:
    """v_model_usage_latency per UTC day and model. Latencies are averages and maxima over the successful
    requests (SQLite has no percentile aggregate); throughput is output tokens per second of latency."""
    ok = f"{_REQUEST} AND u.status = 'success'"
    where, params = _where(scope, filters)
    sql = (
        "SELECT substr(u.created_at, 1, 10) AS day, u.provider_id AS provider_id, u.model_id AS model_id, "
        f"{REQUESTS}, SUM(CASE WHEN {ok} THEN 1 ELSE 0 END) AS successes, {ERRORS}, {FAILED_ATTEMPTS}, "
        f"AVG(CASE WHEN {ok} THEN u.latency_ms END) AS avg_latency_ms, "
        f"MAX(CASE WHEN {ok} THEN u.latency_ms END) AS max_latency_ms, "
        f"AVG(CASE WHEN {ok} THEN u.ttft_ms END) AS avg_ttft_ms, "
        f"AVG(CASE WHEN {ok} THEN u.overhead_ms END) AS avg_overhead_ms, "
        f"MAX(CASE WHEN {ok} THEN u.overhead_ms END) AS max_overhead_ms, "
        "SUM(u.input_tokens) AS input_tokens, SUM(u.output_tokens) AS output_tokens, "
        f"SUM(CASE WHEN {ok} THEN u.output_tokens ELSE 0 END) * 1000.0 "
        f"/ NULLIF(TOTAL(CASE WHEN {ok} THEN u.latency_ms END), 0) AS output_tokens_per_second "
        f"FROM usage_log AS u WHERE {where} "
        "GROUP BY substr(u.created_at, 1, 10), u.provider_id, u.model_id ORDER BY day, provider_id, model_id"
    )
    return sql, params


def provider_health_query(scope: Scope, now: str, hour_ago: str, day_ago: str, provider: str | None,
                          member_org_ids: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    """v_provider_health from the principal's own traffic of the last hour and day. The circuit figures are
    the gateway's shared state (no tenant's numbers); the health EWMA and last error/success times come from
    every tenant's traffic, so only the system sees them. A tenant sees the built-in providers and the custom
    ones of its orgs (`member_org_ids`), never another org's custom provider."""
    where, params = _where(scope, Filters(since=day_ago, until=now, dimensions={"provider": provider}),
                           ("u.provider_id IS NOT NULL",))
    system_only = ("AVG(latency_ewma_ms)", "MAX(last_error_at)", "MAX(last_success_at)") if scope.everything \
        else ("NULL", "NULL", "NULL")
    owners: list[Any] = []
    if scope.everything:
        usable = ""
    else:
        marks = ", ".join("?" for _ in member_org_ids)
        usable = f"org_id IS NULL OR org_id IN ({marks})" if member_org_ids else "org_id IS NULL"
        owners = list(member_org_ids)
    health_terms = (["provider_id = ?"] if provider else []) + (
        [f"provider_id IN (SELECT id FROM providers WHERE {usable})"] if usable else [])
    provider_term = f" WHERE {' AND '.join(health_terms)}" if health_terms else ""
    enabled_term = (" AND id = ?" if provider else "") + (f" AND ({usable})" if usable else "")
    sql = (
        "WITH health AS (SELECT provider_id, COUNT(*) AS models, "
        "SUM(CASE WHEN circuit_state = 'open' THEN 1 ELSE 0 END) AS open_circuits, "
        "SUM(CASE WHEN circuit_state = 'half_open' THEN 1 ELSE 0 END) AS half_open_circuits, "
        f"{system_only[0]} AS avg_latency_ewma_ms, {system_only[1]} AS last_error_at, "
        f"{system_only[2]} AS last_success_at FROM model_health{provider_term} GROUP BY provider_id), "
        "recent AS (SELECT u.provider_id AS provider_id, "
        f"SUM(CASE WHEN {_REQUEST} AND u.created_at >= ? THEN 1 ELSE 0 END) AS requests_last_hour, "
        f"SUM(CASE WHEN {_REQUEST} AND u.created_at >= ? AND u.status = 'error' THEN 1 ELSE 0 END) "
        "AS errors_last_hour, "
        f"SUM(CASE WHEN {_REQUEST} THEN 1 ELSE 0 END) AS requests_last_day, "
        f"SUM(CASE WHEN {_REQUEST} AND u.status = 'error' THEN 1 ELSE 0 END) AS errors_last_day, "
        f"{FAILED_ATTEMPTS}, "
        f"AVG(CASE WHEN {_REQUEST} AND u.status = 'success' THEN u.latency_ms END) AS avg_latency_ms_last_day "
        f"FROM usage_log AS u WHERE {where} GROUP BY u.provider_id), "
        "known AS (SELECT provider_id FROM health UNION SELECT provider_id FROM recent "
        f"UNION SELECT id FROM providers WHERE enabled = 1{enabled_term}) "
        "SELECT k.provider_id AS provider_id, p.display_name AS display_name, "
        "COALESCE(h.models, 0) AS models, COALESCE(h.open_circuits, 0) AS open_circuits, "
        "COALESCE(h.half_open_circuits, 0) AS half_open_circuits, "
        "COALESCE(r.requests_last_hour, 0) AS requests_last_hour, COALESCE(r.errors_last_hour, 0) AS errors_last_hour, "
        "CAST(r.errors_last_hour AS REAL) / NULLIF(r.requests_last_hour, 0) AS error_rate_last_hour, "
        "COALESCE(r.requests_last_day, 0) AS requests_last_day, COALESCE(r.errors_last_day, 0) AS errors_last_day, "
        "CAST(r.errors_last_day AS REAL) / NULLIF(r.requests_last_day, 0) AS error_rate_last_day, "
        "COALESCE(r.failed_attempts, 0) AS failed_attempts_last_day, "
        "r.avg_latency_ms_last_day AS avg_latency_ms_last_day, h.avg_latency_ewma_ms AS avg_latency_ewma_ms, "
        "h.last_error_at AS last_error_at, h.last_success_at AS last_success_at "
        "FROM known AS k LEFT JOIN health AS h ON h.provider_id = k.provider_id "
        "LEFT JOIN recent AS r ON r.provider_id = k.provider_id LEFT JOIN providers AS p ON p.id = k.provider_id "
        "ORDER BY k.provider_id"
    )
    only = [provider] if provider else []
    return sql, [*only, *owners, hour_ago, hour_ago, *params, *only, *owners]


async def rows(db: Database, query: tuple[str, list[Any]]) -> list[dict[str, Any]]:
    sql, params = query
    return (await db.query(sql, params)).rows


CSV_PAGE = 1000


async def usage_pages(db: Database, scope: Scope, filters: Filters, columns: tuple[str, ...]
                      ) -> AsyncIterator[list[dict[str, Any]]]:
    """The visible usage rows of the range, oldest first, in pages of CSV_PAGE (keyset on created_at and
    request_id, so each page is one index range and memory stays bounded)."""
    selected = ", ".join(f"u.{column}" for column in columns)
    after: tuple[str, str] | None = None
    while True:
        extra = ("(u.created_at > ? OR (u.created_at = ? AND u.request_id > ?))",) if after else ()
        where, params = _where(scope, filters, extra)
        if after:
            params.extend([after[0], after[0], after[1]])
        page = (await db.query(
            f"SELECT {selected} FROM usage_log AS u WHERE {where} ORDER BY u.created_at, u.request_id LIMIT ?",
            [*params, CSV_PAGE],
        )).rows
        if not page:
            return
        yield page
        if len(page) < CSV_PAGE:
            return
        after = (page[-1]["created_at"], page[-1]["request_id"])
