"""Time every analytics query (storage/analytics.py, the SQL of GET /admin/analytics/…) at a million usage rows.

Builds a temporary SQLite file with the real migrations and d1_views.sql, fills usage_log with N synthetic rows
(30 days, 20 orgs, 300 users, 600 keys, 12 models, ~5% errors, ~3% failed attempts; executemany in one
transaction) and 1 tag per 4 requests in usage_tags, then times each query as three principals see it — the
system, an org admin (one org) and a user — over the default range (the last 7 days of the data), the median
of --runs runs. `--plan` prints EXPLAIN QUERY PLAN of each query. It also times what the usage recorder pays
per row written into the full table (batches of 20 rows, one transaction each, as UsageRecorder writes them).
`--index "CREATE INDEX ..."` (repeatable) adds a candidate index before the fill, to weigh what it saves the
reports against what it costs every write (docs/analytics.md, "Indexes").

    .venv/bin/python scripts/bench_analytics.py [--rows 1000000] [--runs 5] [--plan] [--index SQL ...]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from gateway.storage import analytics as sql  # noqa: E402
from gateway.storage.migrations import apply_migrations, apply_script  # noqa: E402
from gateway.storage.usage import USAGE_COLUMNS  # noqa: E402
from gateway.timefmt import utc_text  # noqa: E402

DAYS = 30
MODELS = [("openai", "openai/gpt-4o-mini"), ("openai", "openai/gpt-4o"), ("anthropic", "anthropic/claude-sonnet-4"),
          ("anthropic", "anthropic/claude-3-5-haiku-latest"), ("gemini", "gemini/gemini-2.5-flash"),
          ("gemini", "gemini/gemini-2.5-pro"), ("groq", "groq/llama-3.1-8b-instant"),
          ("groq", "groq/llama-3.3-70b-versatile"), ("deepseek", "deepseek/deepseek-chat"),
          ("xai", "xai/grok-3-mini"), ("workers-ai", "workers-ai/@cf/meta/llama-3.1-8b-instruct"),
          ("together", "together/meta-llama/Llama-3.3-70B-Instruct-Turbo")]
ERROR_TYPES = ("rate_limit", "server_error", "timeout", "context_length")


def fill(conn: sqlite3.Connection, rows: int, end: float) -> None:
    rng = random.Random(7)
    start = end - DAYS * 86400
    columns = ("request_id", "created_at", "key_id", "user_id", "org_id", "tier_id", "endpoint", "provider_id",
               "model_id", "status", "error_type", "input_tokens", "output_tokens", "cost_usd", "cost_status",
               "latency_ms", "ttft_ms", "overhead_ms", "attempt_of")

    def generate():
        for n in range(rows):
            user = rng.randrange(300)
            org = f"org-{user % 20}" if user < 240 else None  # a fifth of the users are in no org
            provider, model = MODELS[rng.randrange(len(MODELS))]
            created = utc_text(start + (end - start) * n / rows)
            attempt = rng.random() < 0.03
            failed = attempt or rng.random() < 0.05
            yield (f"req-{n:07d}", created, f"key-{user}-{rng.randrange(2)}", f"user-{user}", org, "business",
                   "chat", provider, model, "error" if failed else "success",
                   rng.choice(ERROR_TYPES) if failed else None, rng.randrange(2000), 0 if failed else rng.randrange(800),
                   0.0 if failed else rng.random() * 0.01, "none" if failed else "priced",
                   rng.uniform(100, 3000), None if failed else rng.uniform(50, 500), rng.uniform(0.5, 5),
                   f"req-{n + 1:07d}" if attempt else None)

    conn.execute("BEGIN")
    conn.executemany(f"INSERT INTO usage_log ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                     generate())
    conn.execute("INSERT INTO usage_tags (request_id, tag_key, tag_value) SELECT request_id, 'app', "
                 "'app-' || (rowid % 5) FROM usage_log WHERE attempt_of IS NULL AND rowid % 4 = 0")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")


WRITE_BATCH = 20


def write_cost(conn: sqlite3.Connection, now: float, batches: int = 250) -> float:
    """Seconds per usage row inserted, in transactions of WRITE_BATCH rows (the recorder's batches)."""
    columns = ("request_id", "created_at", "key_id", "user_id", "org_id", "tier_id", "endpoint", "provider_id",
               "model_id", "status", "input_tokens", "output_tokens", "cost_usd", "cost_status", "latency_ms")
    insert = f"INSERT INTO usage_log ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    rng = random.Random(11)
    began = time.perf_counter()
    for batch in range(batches):
        rows = []
        for n in range(WRITE_BATCH):
            user = rng.randrange(300)
            provider, model = MODELS[rng.randrange(len(MODELS))]
            rows.append((f"new-{batch:04d}-{n:02d}", utc_text(now + batch), f"key-{user}-0", f"user-{user}",
                         f"org-{user % 20}", "business", "chat", provider, model, "success", 1000, 200, 0.001,
                         "priced", 800.0))
        conn.execute("BEGIN")
        conn.executemany(insert, rows)
        conn.execute("COMMIT")
    return (time.perf_counter() - began) / (batches * WRITE_BATCH)


def queries(scope: sql.Scope, filters: sql.Filters, now: float) -> dict[str, tuple[str, list]]:
    def csv_page() -> tuple[str, list]:
        where, params = sql._where(scope, filters)  # noqa: SLF001 - the first page of usage_pages
        return (f"SELECT {', '.join('u.' + c for c in USAGE_COLUMNS)} FROM usage_log AS u WHERE {where} "
                f"ORDER BY u.created_at, u.request_id LIMIT {sql.CSV_PAGE}", params)

    return {
        "cost group_by=day": sql.cost_query(scope, filters, ("day",)),
        "cost group_by=hour": sql.cost_query(scope, filters, ("hour",)),
        "cost group_by=org,user,key": sql.cost_query(scope, filters, ("org", "user", "key")),
        "cost group_by=provider": sql.cost_query(scope, filters, ("provider",)),
        "cost group_by=tag": sql.cost_query(scope, filters, ("tag",)),
        "cost tag_key=app&tag_value=app-1": sql.cost_query(
            scope, sql.Filters(filters.since, filters.until, {"tag_key": "app", "tag_value": "app-1"}), ("day",)),
        "cost model=openai/gpt-4o": sql.cost_query(
            scope, sql.Filters(filters.since, filters.until, {"model": "openai/gpt-4o"}), ("day",)),
        "cost_by_day interval=hour": sql.cost_query(scope, filters, ("hour", "org", "model")),
        "cost_by_model": sql.cost_by_model_query(scope, filters),
        "cost_by_org_user": sql.cost_query(scope, filters, ("month", "org", "user", "key")),
        "spend_per_hour": sql.spend_per_hour_query(scope, filters),
        "error_patterns": sql.error_patterns_query(scope, filters),
        "model_usage_latency": sql.model_usage_latency_query(scope, filters),
        "provider_health": sql.provider_health_query(scope, utc_text(now), utc_text(now - 3600),
                                                     utc_text(now - 86400), None),
        "usage.csv (one page)": csv_page(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--plan", action="store_true", help="print EXPLAIN QUERY PLAN of each query")
    parser.add_argument("--index", action="append", default=[], help="a candidate CREATE INDEX statement")
    args = parser.parse_args()
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        conn = sqlite3.connect(Path(tmp) / "bench.sqlite3", isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")  # as the local runner's database (ports/local.py)
        conn.execute("PRAGMA synchronous = NORMAL")
        apply_migrations(conn, ROOT / "migrations")
        apply_script(conn, ROOT / "d1_views.sql")
        for statement in args.index:
            conn.execute(statement)
        began = time.perf_counter()
        fill(conn, args.rows, now)
        print(f"filled {args.rows:,} usage rows in {time.perf_counter() - began:.1f} s "
              f"(SQLite {sqlite3.sqlite_version})")
        filters = sql.Filters(since=utc_text(now - 7 * 86400), until=utc_text(now))
        principals = {"system": sql.Scope(everything=True),
                      "org admin": sql.Scope(everything=False, user_id="user-0", org_ids=("org-3",)),
                      "user": sql.Scope(everything=False, user_id="user-250")}
        print(f"\n{'query (last 7 of 30 days)':36} " + " ".join(f"{name:>16}" for name in principals))
        for label in queries(principals["system"], filters, now):
            cells = []
            for scope in principals.values():
                statement, params = queries(scope, filters, now)[label]
                times, count = [], 0
                for _ in range(args.runs):
                    began = time.perf_counter()
                    count = len(conn.execute(statement, params).fetchall())
                    times.append(time.perf_counter() - began)
                cells.append(f"{statistics.median(times) * 1000:8.1f} ms {count:>5}r")
                if args.plan:
                    plan = conn.execute(f"EXPLAIN QUERY PLAN {statement}", params).fetchall()
                    print(f"  plan [{label}]: " + " | ".join(row[-1] for row in plan))
            print(f"{label:36} " + " ".join(f"{cell:>16}" for cell in cells))
        print(f"\nwriting usage rows into the full table: {write_cost(conn, now) * 1e6:.1f} µs per row "
              f"(batches of {WRITE_BATCH}, one transaction each)")
        conn.close()


if __name__ == "__main__":
    main()
