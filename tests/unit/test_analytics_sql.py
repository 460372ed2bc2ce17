"""storage/analytics.py on the real migrations: every report is an index search of usage_log (never a scan,
whoever asks), and the CSV pages hand out each visible row exactly once, ties on created_at included."""

from __future__ import annotations

import asyncio

import pytest

from gateway.storage import analytics as sql

SCOPES = {
    "system": sql.Scope(everything=True),
    "org admin": sql.Scope(everything=False, user_id="u1", org_ids=("o1", "o2")),
    "user": sql.Scope(everything=False, user_id="u1"),
}
RANGE = sql.Filters(since="2026-11-20 00:00:00.000", until="2026-11-27 00:00:00.000")


def run(coro):
    return asyncio.run(coro)


def reports(scope: sql.Scope) -> dict[str, tuple[str, list]]:
    tagged = sql.Filters(RANGE.since, RANGE.until, {"tag_key": "app", "tag_value": "x"})
    return {
        **{f"cost {g}": sql.cost_query(scope, RANGE, tuple(g.split(","))) for g in
           ("day", "hour", "month,org,user,key", "provider", "model", "tag")},
        "cost tagged": sql.cost_query(scope, tagged, ("day",)),
        "cost_by_model": sql.cost_by_model_query(scope, RANGE),
        "spend_per_hour": sql.spend_per_hour_query(scope, RANGE),
        "error_patterns": sql.error_patterns_query(scope, RANGE),
        "model_usage_latency": sql.model_usage_latency_query(scope, RANGE),
        "provider_health": sql.provider_health_query(scope, RANGE.until, "2026-11-26 23:00:00.000", RANGE.since,
                                                     None, ("o1",)),
    }


@pytest.mark.parametrize("who", SCOPES)
def test_no_report_scans_the_usage_log(db, who):
    for name, (statement, params) in reports(SCOPES[who]).items():
        plan = [row["detail"] for row in run(db.query(f"EXPLAIN QUERY PLAN {statement}", params)).rows]
        assert not [step for step in plan if step.startswith("SCAN u")], (name, plan)
        assert any("USING INDEX idx_usage_" in step for step in plan), (name, plan)


def _insert(db, request_id: str, created_at: str, user_id: str, org_id: str | None) -> None:
    run(db.query("INSERT INTO usage_log (request_id, created_at, user_id, org_id, endpoint, status) "
                 "VALUES (?, ?, ?, ?, 'chat', 'success')", (request_id, created_at, user_id, org_id)))


def test_csv_pages_give_every_visible_row_once_in_order_with_ties(db, monkeypatch):
    monkeypatch.setattr(sql, "CSV_PAGE", 2)
    same = "2026-11-25 10:00:00.000"
    for n, user, org in ((5, "u1", None), (3, "u2", "o1"), (9, "u1", "o9"), (1, "u3", "o2"), (7, "u3", "o3"),
                         (2, "u1", None)):
        _insert(db, f"r{n}", same, user, org)  # six rows at one instant: only request_id orders them
    _insert(db, "r0", "2026-11-25 09:59:59.999", "u1", None)
    _insert(db, "r8", "2026-11-27 00:00:00.000", "u1", None)  # = until: outside

    async def collect(scope: sql.Scope) -> list[str]:
        return [row["request_id"] async for page in sql.usage_pages(db, scope, RANGE, ("request_id", "created_at"))
                for row in page]

    # org admin of o1 and o2 who is u1: own rows (r0, r2, r5, r9) and o1's r3, o2's r1; not u3's r7 in o3
    assert run(collect(SCOPES["org admin"])) == ["r0", "r1", "r2", "r3", "r5", "r9"]
    assert run(collect(SCOPES["user"])) == ["r0", "r2", "r5", "r9"]
    assert run(collect(SCOPES["system"])) == ["r0", "r1", "r2", "r3", "r5", "r7", "r9"]
