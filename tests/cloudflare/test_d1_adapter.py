"""D1Database (ports/cloudflare.py) on `env.DB` as the Worker sees it: the SDK-wrapped D1 binding.

The binding is the D1 stand-in of scripts/pyodide/d1_standin.mjs (D1's binding API over node:sqlite with
the real migrations and views); the storage modules run against it unchanged.
"""

from __future__ import annotations

import asyncio

import js
import pyodide_standins
import pytest
from pyodide.ffi import JsException, jsnull, to_js
from workers.rpc import _BindingWrapper, _EnvWrapper

from gateway.pipeline.auth import KeyAuthenticator
from gateway.ports import DatabaseError, QueryResult, Statement
from gateway.ports.cloudflare import D1Database
from gateway.ports.fakes import FakeClock
from gateway.storage import catalog as catalog_sql
from gateway.storage import keys as keys_sql
from gateway.storage import usage as usage_sql


def run(coro):
    return asyncio.run(coro)


@pytest.fixture
def db(worker) -> D1Database:
    return D1Database(worker.env.DB)  # exactly as src/entry.py builds it


# --- the binding as the SDK hands it over ---------------------------------------------------------

def test_env_is_the_sdk_wrapper_and_db_is_recognised_as_a_d1_binding(worker):
    assert isinstance(worker.env, _EnvWrapper)
    assert isinstance(worker.env.DB, _BindingWrapper)  # _EnvWrapper wraps D1Database by constructor name
    assert worker.env.DB._real_name == "D1Database"
    assert worker.env.GATEWAY_ENV == "test"  # vars arrive as Python strings


# --- queries ----------------------------------------------------------------------------------------

def test_select_answers_rows_as_plain_dicts_with_python_values(db):
    result = run(db.query("SELECT id, adapter, enabled FROM providers WHERE id = ?", ("openai",)))
    assert isinstance(result, QueryResult)
    assert result.rows == [{"id": "openai", "adapter": "openai", "enabled": 1}]
    assert type(result.rows[0]["enabled"]) is int
    assert result.changes == 0


def test_insert_with_null_parameters_reports_changes_last_row_id_and_returning_rows(db):
    created = run(db.query(
        "INSERT INTO gateway_keys (id, key_hash, prefix, name, user_id) VALUES (?, ?, ?, ?, ?) "
        "RETURNING id, name, user_id",
        ("key_1", "hash_1", "gw-abc", None, None),
    ))
    assert created.rows == [{"id": "key_1", "name": None, "user_id": None}]  # SQL NULL -> None
    assert created.changes == 1
    assert isinstance(created.last_row_id, int) and created.last_row_id > 0

    updated = run(db.query("UPDATE gateway_keys SET name = ? WHERE id = ?", ("renamed", "key_1")))
    assert (updated.changes, updated.rows) == (1, [])


def test_floats_and_large_integers_round_trip(db):
    row = run(db.query("SELECT ? AS price, ? AS tokens, ? AS flag", (0.15, 2**40, True))).rows[0]
    assert row == {"price": 0.15, "tokens": 2**40, "flag": 1}  # D1 binds booleans as 1/0


def test_sql_errors_become_database_errors_carrying_d1s_message(db):
    with pytest.raises(DatabaseError, match=r"^D1_ERROR: no such table: nowhere"):
        run(db.query("SELECT * FROM nowhere"))
    run(db.query("INSERT INTO gateway_keys (id, key_hash, prefix) VALUES ('k', 'h', 'p')"))
    with pytest.raises(DatabaseError, match="UNIQUE constraint failed.*SQLITE_CONSTRAINT"):
        run(db.query("INSERT INTO gateway_keys (id, key_hash, prefix) VALUES ('k2', 'h', 'p')"))


def test_a_value_d1_cannot_bind_is_a_database_error(db):
    with pytest.raises(DatabaseError, match="D1_TYPE_ERROR"):
        run(db.query("SELECT ? AS x", ({"not": "bindable"},)))


def test_foreign_keys_are_enforced_as_d1_does(db):
    with pytest.raises(DatabaseError, match="FOREIGN KEY constraint failed"):
        run(db.query("INSERT INTO gateway_keys (id, key_hash, prefix, tier_id) VALUES ('k', 'h', 'p', 'no-tier')"))


def test_more_than_100_bound_parameters_are_refused_as_d1_does(db):
    placeholders = ", ".join("?" for _ in range(101))
    assert run(db.query(f"SELECT {placeholders[:-3]}", list(range(100)))).rows  # 100 is fine
    with pytest.raises(DatabaseError, match="too many SQL variables"):
        run(db.query(f"SELECT {placeholders}", list(range(101))))


def test_sql_transactions_are_refused_as_d1_does(db):
    with pytest.raises(DatabaseError, match="D1_ERROR"):
        run(db.query("BEGIN"))


# --- batch: one transaction ------------------------------------------------------------------------

INSERT_KEY = "INSERT INTO gateway_keys (id, key_hash, prefix) VALUES (?, ?, ?)"


def test_batch_commits_every_statement_and_answers_a_result_each(db):
    results = run(db.batch([
        Statement(INSERT_KEY, ("a", "ha", "gw-a")),
        Statement(INSERT_KEY, ("b", "hb", "gw-b")),
        Statement("SELECT id FROM gateway_keys ORDER BY id"),
    ]))
    assert [r.changes for r in results] == [1, 1, 0]
    assert results[2].rows == [{"id": "a"}, {"id": "b"}]


def test_a_failing_batch_writes_nothing(db):
    with pytest.raises(DatabaseError, match="UNIQUE"):
        run(db.batch([
            Statement(INSERT_KEY, ("a", "ha", "gw-a")),
            Statement(INSERT_KEY, ("b", "ha", "gw-b")),  # same key_hash: the whole batch rolls back
        ]))
    assert run(db.query("SELECT count(*) AS n FROM gateway_keys")).rows == [{"n": 0}]


def test_a_batch_with_an_unbindable_value_is_a_database_error_and_writes_nothing(db):
    with pytest.raises(DatabaseError, match="D1_TYPE_ERROR"):
        run(db.batch([Statement(INSERT_KEY, ("a", "ha", "gw-a")), Statement("SELECT ?", ({"x": 1},))]))
    assert run(db.query("SELECT count(*) AS n FROM gateway_keys")).rows == [{"n": 0}]


def test_the_adapter_also_works_on_the_unwrapped_binding(worker):
    raw = D1Database(pyodide_standins.env.DB)  # the JS object itself, as `cloudflare:workers`.env holds it
    assert run(raw.query("SELECT id FROM providers WHERE id = ?", ("openai",))).rows == [{"id": "openai"}]
    assert run(raw.query("SELECT NULL AS empty, ? AS also", (None,))).rows == [{"empty": None, "also": None}]
    [inserted] = run(raw.batch([Statement(INSERT_KEY, ("a", "ha", "gw-a"))]))
    assert inserted.changes == 1
    # None must reach D1 as null (a Python None passed to JS is `undefined`, which D1 refuses to bind).
    with pytest.raises(DatabaseError, match="NOT NULL constraint failed: gateway_keys.prefix"):
        run(raw.query(INSERT_KEY, ("b", "hb", None)))


# --- the storage modules, unchanged, on D1 --------------------------------------------------------

def test_keys_are_created_found_by_prefix_and_hash_and_authenticated(db):
    raw_key = keys_sql.generate_key()
    stored = run(keys_sql.create(db, "key_1", raw_key, {"name": "ci", "tier_id": None}))
    assert stored["id"] == "key_1" and stored["name"] == "ci" and stored["prefix"] == raw_key[:15]
    assert "key_hash" not in stored
    record = run(keys_sql.find_by_key(db, raw_key))
    assert record is not None and record.id == "key_1" and record.status == "active"
    assert run(keys_sql.find_by_key(db, raw_key[:15] + "x" * 31)) is None  # same prefix, other key

    caller = run(KeyAuthenticator(db, FakeClock(), 10).authenticate(raw_key))
    assert caller.key_id == "key_1"


def test_usage_rows_are_inserted_and_read_back(db):
    row = {column: None for column in usage_sql.USAGE_COLUMNS}
    row.update(request_id="req_1", created_at="2026-01-01T00:00:00.000Z", endpoint="chat", status="success",
               stream=1, input_tokens=10, cached_input_tokens=0, output_tokens=5, reasoning_tokens=0,
               cost_usd=0.0000045, cost_status="priced", latency_ms=12.5, attempts=1)
    run(usage_sql.insert(db, row))  # 30 bound parameters (D1 allows 100)
    [stored] = run(usage_sql.newest(db, 5))
    assert stored["request_id"] == "req_1" and stored["cost_usd"] == pytest.approx(0.0000045)
    assert (stored["input_tokens"], stored["output_tokens"], stored["latency_ms"]) == (10, 5, 12.5)


def test_the_catalog_queries_run_on_d1(db):
    providers = run(catalog_sql.enabled_providers(db))
    assert "openai" in {p["id"] for p in providers}
    models = run(catalog_sql.enabled_models(db))
    assert any(m["id"] == "openai/gpt-4o-mini" for m in models)
    added = run(catalog_sql.insert_custom_provider(db, "my-vllm", "My vLLM", "http://127.0.0.1:9/v1"))
    assert added["adapter"] == "openai_compatible" and added["enabled"] == 1
    assert run(catalog_sql.provider_exists(db, "my-vllm")) is True
    assert run(catalog_sql.provider_exists(db, "nobody")) is False


# --- the stand-in speaks D1's shapes (what the adapter relies on) ---------------------------------

async def _d1_shapes(d1):
    statement = d1.prepare("SELECT id, adapter FROM providers WHERE id = ?")
    bound = statement.bind("openai")
    assert bound is not statement  # bind() answers a new statement
    all_ = await bound.all()
    assert all_.success is True and all_.results.length == 1
    assert set(js.Object.keys(all_.meta).to_py()) >= {
        "duration", "changes", "last_row_id", "changed_db", "size_after", "rows_read", "rows_written"}
    run_ = await d1.prepare(INSERT_KEY).bind("a", "ha", "gw-a").run()
    assert (run_.success, run_.meta.changes, run_.meta.changed_db, run_.results.length) == (True, 1, True, 0)
    assert (await bound.first()).to_py() == {"id": "openai", "adapter": "openai"}
    assert await bound.first("adapter") == "openai"
    assert await d1.prepare("SELECT 1 WHERE 0").first() is jsnull  # JS null (Pyodide: jsnull)
    try:
        await bound.first("nope")
    except JsException as exc:
        assert str(exc).startswith("Error: D1_COLUMN_NOTFOUND")
    else:
        raise AssertionError("first(missing column) must throw")
    raw = await bound.raw(to_js({"columnNames": True}, dict_converter=js.Object.fromEntries))
    assert raw.to_py() == [["id", "adapter"], ["openai", "openai"]]
    executed = await d1.exec("CREATE TABLE scratch (x)\nINSERT INTO scratch VALUES (1)")
    assert executed.count == 2 and executed.duration >= 0
    try:
        d1.prepare("SELECT ?").bind(None)  # a Python None reaches JS as undefined
    except JsException as exc:
        assert "D1_TYPE_ERROR: Type 'undefined' not supported" in str(exc)
    else:
        raise AssertionError("bind(undefined) must throw")
    batch = await d1.batch(to_js([d1.prepare("SELECT 1 AS one"), d1.prepare("SELECT 2 AS two")]))
    assert [r.results[0].to_py() for r in batch] == [{"one": 1}, {"two": 2}]


def test_the_stand_in_answers_with_d1s_result_and_error_shapes(worker):
    run(_d1_shapes(pyodide_standins.env.DB))
