"""The counters behind request limits, budgets and the Workers AI neuron budget: each is one atomic
upsert, so concurrent isolates never lose an increment and never read-then-write."""

from __future__ import annotations

from typing import Any, Sequence

from gateway.ports import Database, Statement

# One statement per request, whatever the number of subjects: every subject's row for the day is
# created at 1 or incremented, and the new counts come back. `window` is quoted: it is an SQL keyword.
_COUNT_HEAD = 'INSERT INTO rate_limit_counters (subject, "window", count, updated_at) VALUES '
_COUNT_TAIL = (
    ' ON CONFLICT (subject, "window") DO UPDATE SET count = count + 1, updated_at = excluded.updated_at'
    " RETURNING subject, count"
)


def count_request_statement(subjects: Sequence[str], day: str, now_text: str) -> Statement:
    params: list[Any] = []
    for subject in subjects:
        params += [subject, day, now_text]
    return Statement(_COUNT_HEAD + ", ".join("(?, ?, 1, ?)" for _ in subjects) + _COUNT_TAIL, params)


async def count_request(db: Database, subjects: Sequence[str], day: str, now_text: str) -> dict[str, int]:
    """Add one request to each subject's counter for `day`; answers {subject: its new count}."""
    statement = count_request_statement(subjects, day, now_text)
    result = await db.query(statement.sql, statement.params)
    return {row["subject"]: int(row["count"]) for row in result.rows}


async def tier_limits(db: Database) -> dict[str, tuple[int | None, float | None]]:
    """{tier id: (daily request limit, monthly budget in USD)}; NULL is None (unlimited / no cap)."""
    result = await db.query("SELECT id, daily_request_limit, monthly_budget_usd FROM tiers")
    return {row["id"]: (row["daily_request_limit"], row["monthly_budget_usd"]) for row in result.rows}


def add_spend(subject: str, period: str, usd: float) -> Statement:
    return Statement(
        "INSERT INTO spend_counters (subject, period, spent_usd) VALUES (?, ?, ?) "
        "ON CONFLICT (subject, period) DO UPDATE SET spent_usd = spent_usd + excluded.spent_usd, "
        "updated_at = excluded.updated_at",
        (subject, period, usd),
    )


def add_neurons(day: str, model_id: str, neurons: float, requests: int) -> Statement:
    return Statement(
        "INSERT INTO neuron_usage (day, model_id, neurons, requests) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (day, model_id) DO UPDATE SET neurons = neurons + excluded.neurons, "
        "requests = requests + excluded.requests, updated_at = excluded.updated_at",
        (day, model_id, neurons, requests),
    )


async def budgets_and_spend(
    db: Database, user_id: str | None, org_id: str | None, tier_id: str | None,
    subjects: Sequence[str], periods: Sequence[str],
) -> tuple[dict[str, Any], dict[tuple[str, str], float]]:
    """The user's, org's and tier's budgets and what `subjects` spent in `periods`, in one round trip."""
    limits, spent = await db.batch(budget_statements(user_id, org_id, tier_id, subjects, periods))
    budgets = limits.rows[0] if limits.rows else {}
    return budgets, {(row["subject"], row["period"]): float(row["spent_usd"]) for row in spent.rows}


def budget_statements(
    user_id: str | None, org_id: str | None, tier_id: str | None, subjects: Sequence[str], periods: Sequence[str],
) -> list[Statement]:
    return [
        Statement(
            "SELECT u.daily_budget_usd AS user_daily, u.monthly_budget_usd AS user_monthly, "
            "o.daily_budget_usd AS org_daily, o.monthly_budget_usd AS org_monthly, "
            "t.monthly_budget_usd AS tier_monthly FROM (SELECT 1) "
            "LEFT JOIN users u ON u.id = ? LEFT JOIN organizations o ON o.id = ? LEFT JOIN tiers t ON t.id = ?",
            (user_id, org_id, tier_id),
        ),
        Statement(
            f"SELECT subject, period, spent_usd FROM spend_counters WHERE subject IN ({', '.join('?' for _ in subjects)}) "
            f"AND period IN ({', '.join('?' for _ in periods)})",
            (*subjects, *periods),
        ),
    ]


async def neurons_on(db: Database, day: str) -> list[dict[str, Any]]:
    """The day's neurons per Workers AI model, largest first."""
    result = await db.query(
        "SELECT model_id, neurons, requests FROM neuron_usage WHERE day = ? ORDER BY neurons DESC, model_id", (day,)
    )
    return result.rows


def event_statement(kind: str, subject: str | None, detail: str | None) -> Statement:
    return Statement("INSERT INTO gateway_events (kind, subject, detail) VALUES (?, ?, ?)", (kind, subject, detail))


async def record_event(db: Database, kind: str, subject: str | None, detail: str | None) -> None:
    statement = event_statement(kind, subject, detail)
    await db.query(statement.sql, statement.params)
