"""Apply wrangler-format D1 migrations and the analytics views to a local SQLite file.

Bookkeeping matches wrangler's own `d1_migrations` table, so a database prepared here and one
prepared by `wrangler d1 migrations apply` agree on what has been applied.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

D1_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS d1_migrations(
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
)"""


def apply_migrations(conn: sqlite3.Connection, migrations_dir: Path) -> list[str]:
    """Apply every `*.sql` file not yet recorded, in name order, each in its own transaction."""
    conn.execute(D1_MIGRATIONS_TABLE)
    applied = {row[0] for row in conn.execute("SELECT name FROM d1_migrations")}
    newly_applied = []
    for path in sorted(migrations_dir.glob("*.sql")):
        if path.name in applied:
            continue
        script = path.read_text(encoding="utf-8")
        try:
            conn.execute("BEGIN")
            for statement in split_statements(script):
                conn.execute(statement)
            conn.execute("INSERT INTO d1_migrations (name) VALUES (?)", (path.name,))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise RuntimeError(f"migration {path.name} failed: {exc}") from exc
        newly_applied.append(path.name)
    return newly_applied


def apply_script(conn: sqlite3.Connection, path: Path) -> None:
    """Run an idempotent SQL file (d1_views.sql) in one transaction."""
    conn.execute("BEGIN")
    try:
        for statement in split_statements(path.read_text(encoding="utf-8")):
            conn.execute(statement)
        conn.execute("COMMIT")
    except sqlite3.Error:
        conn.execute("ROLLBACK")
        raise


def split_statements(script: str) -> list[str]:
    """Split SQL into complete statements (sqlite3 knows where a statement ends, `;` in strings too)."""
    statements: list[str] = []
    pending = ""
    pieces = script.split(";")
    for index, piece in enumerate(pieces):
        pending += piece if index == len(pieces) - 1 else piece + ";"
        if index < len(pieces) - 1 and sqlite3.complete_statement(pending):
            if _strip_comments(pending):
                statements.append(pending.strip())
            pending = ""
    if _strip_comments(pending):
        raise ValueError(f"incomplete SQL statement at end of script: {pending.strip()[:80]!r}")
    return statements


def _strip_comments(sql: str) -> str:
    return "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--")).strip()
