"""catalog/models.json is the catalog as the migrations leave it (docs/catalog.md): a migration that changes
a model must re-export the file, and an edit to the file alone fails here too."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway.ports.local import SQLiteDatabase
from scripts import catalog

ROOT = Path(__file__).resolve().parents[1]


def test_the_catalog_file_equals_a_freshly_migrated_catalog():
    expected = json.loads(catalog.CATALOG_FILE.read_text(encoding="utf-8"))
    actual = asyncio.run(catalog.catalog_document(catalog.open_database(None)))
    assert catalog.differences(expected, actual) == []
    assert len(expected["models"]) == len(actual["models"]) > 100


def test_the_file_holds_every_column_of_the_models_table_but_its_timestamps():
    database = catalog.open_database(None)
    columns = [row["name"] for row in asyncio.run(database.query("SELECT name FROM pragma_table_info('models')")).rows]
    assert sorted(catalog.model_catalog.COLUMNS) == sorted(set(columns) - {"created_at", "updated_at"})


def test_check_names_the_model_and_column_that_drifted(tmp_path):
    document = json.loads(catalog.CATALOG_FILE.read_text(encoding="utf-8"))
    entry = next(m for m in document["models"] if m["id"] == "openai/gpt-4.1-mini")
    entry["output_usd_per_mtok"] = 9.99
    drifted = tmp_path / "models.json"
    drifted.write_text(catalog.render(document), encoding="utf-8")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "catalog.py"), "check", "--file", str(drifted)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "openai/gpt-4.1-mini.output_usd_per_mtok: file 9.99 != database 1.6" in result.stdout


@pytest.mark.parametrize("apply", [False, True])
def test_cli_refresh_shows_the_diff_and_applies_only_when_asked(tmp_path, apply):
    db_path = tmp_path / "gateway.sqlite3"
    migrated = SQLiteDatabase(db_path)
    migrated.migrate(ROOT / "migrations")
    migrated.close()
    fixture = ROOT / "tests" / "unit" / "fixtures" / "litellm_prices.json"
    args = [sys.executable, str(ROOT / "scripts" / "catalog.py"), "refresh", "--format", "litellm",
            "--file", str(fixture), "--db", str(db_path)] + (["--apply"] if apply else [])
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "openai/gpt-4.1-mini  input_usd_per_mtok: 0.4 -> 0.5" in result.stdout
    with sqlite3.connect(db_path) as db:
        row = db.execute("SELECT input_usd_per_mtok, price_version FROM models WHERE id = 'openai/gpt-4.1-mini'").fetchone()
        sources = [r[0] for r in db.execute("SELECT source FROM model_price_history WHERE model_id = "
                                            "'openai/gpt-4.1-mini' ORDER BY price_version")]
    assert row == ((0.5, 2) if apply else (0.4, 1))
    assert sources == (["seed", "litellm"] if apply else ["seed"])
