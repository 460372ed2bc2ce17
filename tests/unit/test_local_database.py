"""SQLiteDatabase: the local database port with D1's semantics."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from gateway.ports import DatabaseError, Statement
from gateway.ports.local import SQLiteDatabase

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

SCHEMA = [
    "CREATE TABLE parents (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE)",
    "CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parents(id), note TEXT)",
]


@pytest.fixture
def sqlite():
    database = SQLiteDatabase(":memory:")
    for sql in SCHEMA:
        run(database.query(sql))
    yield database
    database.close()


def run(coro):
    return asyncio.run(coro)


def test_query_returns_rows_as_dicts_by_column_name(sqlite):
    run(sqlite.query("INSERT INTO parents (name) VALUES (?), (?)", ("a", "b")))
    result = run(sqlite.query("SELECT id, name AS label FROM parents ORDER BY id"))
    assert result.rows == [{"id": 1, "label": "a"}, {"id": 2, "label": "b"}]
    assert result.changes == 0


def test_insert_reports_changes_and_last_row_id(sqlite):
    run(sqlite.query("INSERT INTO parents (name) VALUES ('a')"))
    result = run(sqlite.query("INSERT INTO parents (name) VALUES ('b')"))
    assert result.changes == 1
    assert result.last_row_id == 2
    assert result.rows == []


def test_update_reports_how_many_rows_changed(sqlite):
    run(sqlite.query("INSERT INTO parents (name) VALUES ('a'), ('b'), ('c')"))
    assert run(sqlite.query("UPDATE parents SET name = name || '!' WHERE name != 'b'")).changes == 2
    assert run(sqlite.query("DELETE FROM parents WHERE name = 'none'")).changes == 0


def test_returning_gives_rows_and_changes(sqlite):
    result = run(sqlite.query("INSERT INTO parents (name) VALUES (?) RETURNING id, name", ["x"]))
    assert result.rows == [{"id": 1, "name": "x"}]
    assert result.changes == 1


def test_sql_errors_become_database_errors(sqlite):
    run(sqlite.query("INSERT INTO parents (name) VALUES ('a')"))
    with pytest.raises(DatabaseError, match="UNIQUE"):
        run(sqlite.query("INSERT INTO parents (name) VALUES ('a')"))
    with pytest.raises(DatabaseError):
        run(sqlite.query("SELECT * FROM no_such_table"))


def test_foreign_keys_are_enforced(sqlite):
    with pytest.raises(DatabaseError, match="FOREIGN KEY"):
        run(sqlite.query("INSERT INTO children (parent_id) VALUES (42)"))
    assert run(sqlite.query("SELECT count(*) AS n FROM children")).rows == [{"n": 0}]


def test_batch_answers_one_result_per_statement_and_sees_its_own_writes(sqlite):
    results = run(sqlite.batch([
        Statement("INSERT INTO parents (name) VALUES (?)", ("p",)),
        Statement("INSERT INTO children (parent_id, note) VALUES (?, ?)", (1, "c")),
        Statement("SELECT p.name, c.note FROM children c JOIN parents p ON p.id = c.parent_id"),
    ]))
    assert [r.changes for r in results[:2]] == [1, 1]
    assert results[0].last_row_id == 1
    assert results[2].rows == [{"name": "p", "note": "c"}]


def test_batch_is_all_or_nothing(sqlite):
    run(sqlite.query("INSERT INTO parents (name) VALUES ('existing')"))
    with pytest.raises(DatabaseError, match="UNIQUE"):
        run(sqlite.batch([
            Statement("INSERT INTO parents (name) VALUES ('new one')"),
            Statement("UPDATE parents SET name = 'renamed' WHERE name = 'existing'"),
            Statement("INSERT INTO parents (name) VALUES ('renamed')"),  # fails: the earlier two roll back
        ]))
    assert run(sqlite.query("SELECT name FROM parents")).rows == [{"name": "existing"}]


def test_a_foreign_key_failure_rolls_a_batch_back(sqlite):
    with pytest.raises(DatabaseError, match="FOREIGN KEY"):
        run(sqlite.batch([
            Statement("INSERT INTO parents (name) VALUES ('p')"),
            Statement("INSERT INTO children (parent_id) VALUES (99)"),
        ]))
    assert run(sqlite.query("SELECT count(*) AS n FROM parents")).rows == [{"n": 0}]


def test_the_database_is_usable_after_a_failed_batch(sqlite):
    with pytest.raises(DatabaseError):
        run(sqlite.batch([Statement("INSERT INTO nowhere VALUES (1)")]))
    run(sqlite.query("INSERT INTO parents (name) VALUES ('after')"))  # autocommit again
    run(sqlite.batch([Statement("INSERT INTO parents (name) VALUES ('batch')")]))
    assert run(sqlite.query("SELECT count(*) AS n FROM parents")).rows == [{"n": 2}]


def test_writes_outside_a_batch_are_committed_at_once(tmp_path):
    path = tmp_path / "gw.sqlite3"
    first = SQLiteDatabase(path)
    run(first.query("CREATE TABLE t (x INTEGER)"))
    run(first.query("INSERT INTO t VALUES (1)"))
    second = SQLiteDatabase(path)  # another connection sees it without any commit call
    assert run(second.query("SELECT x FROM t")).rows == [{"x": 1}]
    first.close()
    second.close()


def test_migrate_applies_once_and_leaves_dict_rows():
    database = SQLiteDatabase(":memory:")
    names = sorted(p.name for p in MIGRATIONS.glob("*.sql"))
    assert database.migrate(MIGRATIONS) == names
    assert database.migrate(MIGRATIONS) == []
    rows = run(database.query("SELECT id, daily_request_limit FROM tiers WHERE id = 'free'")).rows
    assert rows == [{"id": "free", "daily_request_limit": 10}]
    database.close()


@pytest.mark.skipif(sys.platform == "emscripten", reason="Pyodide has no threads; the Worker uses D1")
def test_own_thread_mode_runs_statements_off_the_event_loop(tmp_path):
    import threading

    database = SQLiteDatabase(tmp_path / "threaded.sqlite3", own_thread=True)
    database.migrate(MIGRATIONS)
    try:
        async def scenario():
            seen = await database.query("SELECT COUNT(*) AS n FROM tiers")
            with pytest.raises(DatabaseError):
                await database.batch([
                    Statement("INSERT INTO tiers (id, name) VALUES ('t1', 'T1')"),
                    Statement("INSERT INTO tiers (id, name) VALUES ('t1', 'again')"),
                ])
            after = await database.query("SELECT COUNT(*) AS n FROM tiers WHERE id = 't1'")
            return seen.rows[0]["n"], after.rows[0]["n"], threading.get_ident()

        tiers, inserted, loop_thread = asyncio.run(scenario())
        assert (tiers, inserted) == (4, 0)  # the seeded tiers; the failed batch left nothing behind
        worker_threads = {t.ident for t in threading.enumerate() if t.name.startswith("sqlite")}
        assert worker_threads and loop_thread not in worker_threads
    finally:
        database.close()
