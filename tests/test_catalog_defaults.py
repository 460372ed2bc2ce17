"""What a fresh catalog (every migration applied, as `wrangler d1 migrations apply` does) offers."""

from __future__ import annotations

import sqlite3

from gateway.ports.local import SQLiteDatabase
from scripts.run_local import ROOT


def fresh_catalog(tmp_path) -> sqlite3.Connection:
    path = tmp_path / "fresh.sqlite3"
    database = SQLiteDatabase(path)
    database.migrate(ROOT / "migrations", ROOT / "d1_views.sql")
    database.close()
    return sqlite3.connect(path)


def test_openai_video_models_are_disabled_since_openai_removed_the_videos_api(tmp_path):
    with fresh_catalog(tmp_path) as db:
        rows = db.execute("SELECT id, enabled FROM models WHERE provider_id = 'openai' AND modality = 'video'").fetchall()
        enabled_video_providers = {row[0] for row in db.execute(
            "SELECT DISTINCT provider_id FROM models WHERE modality = 'video' AND enabled = 1")}
    assert rows and all(enabled == 0 for _, enabled in rows)  # kept for their prices, never offered
    assert enabled_video_providers == {"gemini", "xai", "together"}
