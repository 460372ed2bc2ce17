"""Unit-test fixtures: a real SQLite database behind the D1-shaped port, with the real migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from gateway.ports.local import SQLiteDatabase

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "migrations"


@pytest.fixture
def db() -> Iterator[SQLiteDatabase]:
    database = SQLiteDatabase(":memory:")
    database.migrate(MIGRATIONS)
    yield database
    database.close()
