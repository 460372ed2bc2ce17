"""Applying wrangler-format migrations to SQLite, with wrangler's own bookkeeping."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.storage.migrations import apply_migrations, split_statements

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


# --- split_statements ----------------------------------------------------------------------------

def test_semicolon_inside_a_string_does_not_split():
    script = "INSERT INTO t VALUES ('a;b');\nINSERT INTO t VALUES ('c');\n"
    assert split_statements(script) == ["INSERT INTO t VALUES ('a;b');", "INSERT INTO t VALUES ('c');"]


def test_string_spanning_lines_with_a_semicolon_at_a_line_end():
    script = "INSERT INTO t VALUES ('line one;\nline two');\n"
    assert split_statements(script) == ["INSERT INTO t VALUES ('line one;\nline two');"]


def test_semicolon_inside_comments_does_not_split():
    script = (
        "-- header; with a semicolon\n"
        "CREATE TABLE t (\n"
        "    x TEXT  -- a column; commented\n"
        ");\n"
        "/* block; comment */ SELECT 1;\n"
    )
    assert split_statements(script) == [
        "-- header; with a semicolon\nCREATE TABLE t (\n    x TEXT  -- a column; commented\n);",
        "/* block; comment */ SELECT 1;",
    ]


def test_comment_only_and_blank_scripts_have_no_statements():
    assert split_statements("-- nothing here;\n\n   \n-- really\n") == []
    assert split_statements("") == []


def test_an_unterminated_last_statement_is_an_error():
    with pytest.raises(ValueError, match="incomplete SQL statement"):
        split_statements("SELECT 1;\nSELECT 2\n")


def test_every_statement_of_the_real_migrations_runs():
    conn = sqlite3.connect(":memory:")
    for path in sorted(MIGRATIONS.glob("*.sql")):
        for statement in split_statements(path.read_text()):
            conn.execute(statement)  # sqlite3 refuses more than one statement per call
    assert conn.execute("SELECT count(*) FROM tiers").fetchone() == (4,)


def test_two_statements_on_one_line_are_split():
    assert split_statements("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);\n") == [
        "INSERT INTO t VALUES (1);", "INSERT INTO t VALUES (2);",
    ]


# --- apply_migrations ----------------------------------------------------------------------------

def connect() -> sqlite3.Connection:
    return sqlite3.connect(":memory:", isolation_level=None)  # as SQLiteDatabase opens it


def recorded(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT name FROM d1_migrations ORDER BY id")]


def test_real_migrations_apply_in_order_and_are_recorded_as_wrangler_does():
    conn = connect()
    names = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    assert apply_migrations(conn, MIGRATIONS) == names
    assert recorded(conn) == names
    applied_at = conn.execute("SELECT applied_at FROM d1_migrations").fetchone()[0]
    assert applied_at  # wrangler's column, filled by default
    assert conn.execute("SELECT count(*) FROM models WHERE provider_id = 'openai'").fetchone()[0] > 0


def test_applying_again_changes_nothing():
    conn = connect()
    apply_migrations(conn, MIGRATIONS)
    tiers_before = conn.execute("SELECT count(*) FROM tiers").fetchone()
    assert apply_migrations(conn, MIGRATIONS) == []
    assert len(recorded(conn)) == len(list(MIGRATIONS.glob("*.sql")))
    assert conn.execute("SELECT count(*) FROM tiers").fetchone() == tiers_before


def test_only_new_migrations_are_applied(tmp_path):
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (x INTEGER);\n")
    conn = connect()
    assert apply_migrations(conn, tmp_path) == ["0001_a.sql"]
    (tmp_path / "0002_b.sql").write_text("INSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\n")
    assert apply_migrations(conn, tmp_path) == ["0002_b.sql"]
    assert conn.execute("SELECT count(*) FROM a").fetchone() == (2,)
    assert recorded(conn) == ["0001_a.sql", "0002_b.sql"]


def test_files_apply_in_name_order(tmp_path):
    (tmp_path / "0002_fill.sql").write_text("INSERT INTO a VALUES (1);\n")
    (tmp_path / "0001_create.sql").write_text("CREATE TABLE a (x INTEGER);\n")
    (tmp_path / "notes.txt").write_text("not a migration;\n")
    assert apply_migrations(connect(), tmp_path) == ["0001_create.sql", "0002_fill.sql"]


def test_a_failing_migration_leaves_no_trace_and_stops(tmp_path):
    (tmp_path / "0001_ok.sql").write_text("CREATE TABLE a (x INTEGER);\n")
    (tmp_path / "0002_bad.sql").write_text("CREATE TABLE b (x INTEGER);\nINSERT INTO missing VALUES (1);\n")
    (tmp_path / "0003_later.sql").write_text("CREATE TABLE c (x INTEGER);\n")
    conn = connect()
    with pytest.raises(RuntimeError, match="0002_bad.sql"):
        apply_migrations(conn, tmp_path)
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "a" in tables and "b" not in tables and "c" not in tables
    assert recorded(conn) == ["0001_ok.sql"]
