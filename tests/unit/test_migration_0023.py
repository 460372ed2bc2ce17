"""0023 on a database that already holds usage rows: each row that is not priced gets the reason its status
implies, priced rows keep no note, and a new job column and price version appear (docs/schema.md)."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

from gateway.ports.local import SQLiteDatabase

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def test_rows_written_before_0023_get_the_note_their_status_implies(tmp_path):
    folder = tmp_path / "migrations"
    folder.mkdir()
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.name < "0023":
            shutil.copy(path, folder)
    db = SQLiteDatabase(tmp_path / "gateway.sqlite3")
    db.migrate(folder)
    rows = [  # (request_id, status, cost_status, attempt_of)
        ("priced", "success", "priced", None), ("failed", "error", "none", None), ("attempt", "error", "none", "failed"),
        ("estimated", "success", "estimated", None), ("unpriced", "success", "unpriced", None),
        ("free", "success", "free", None), ("no-usage", "success", "none", None),
    ]
    for request_id, status, cost_status, attempt_of in rows:
        asyncio.run(db.query("INSERT INTO usage_log (request_id, created_at, endpoint, status, cost_status, attempt_of) "
                             "VALUES (?, '2026-11-01 00:00:00.000', 'chat', ?, ?, ?)",
                             (request_id, status, cost_status, attempt_of)))
    shutil.copy(MIGRATIONS / "0023_cost_notes.sql", folder)
    assert db.migrate(folder) == ["0023_cost_notes.sql"]
    notes = {r["request_id"]: r["cost_note"] for r in asyncio.run(db.query("SELECT request_id, cost_note FROM usage_log")).rows}
    assert notes == {
        "priced": None,
        "failed": "failed: only success is billed",
        "attempt": "failed attempt: not billed (see attempt_of)",
        "estimated": "estimated (recorded before cost notes)",
        "unpriced": "no catalog price (recorded before cost notes)",
        "free": "free: within the Workers AI daily free neurons",
        "no-usage": "provider reported no usage",
    }
    columns = {r["name"] for r in asyncio.run(db.query("PRAGMA table_info(async_jobs)")).rows}
    assert "tags" in columns
    (sonnet,) = asyncio.run(db.query("SELECT cached_input_usd_per_mtok, price_version FROM models "
                                     "WHERE id = 'anthropic/claude-sonnet-5-5'")).rows
    assert sonnet == {"cached_input_usd_per_mtok": 0.2, "price_version": 2}
    db.close()
