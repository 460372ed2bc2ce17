-- Cost notes and tags for video jobs (docs/cost.md).
-- usage_log.cost_note: why a row has no plain price. Every row whose cost_status is not 'priced' carries
-- one (pipeline/cost.py names them; accounting.charge refuses a row without one); a priced Workers AI row
-- says how many of its neurons were free.
ALTER TABLE usage_log ADD COLUMN cost_note TEXT;

-- A video job keeps the tags of the request that created it: its usage row, written when the job ends,
-- carries them (with its video_id tag).
ALTER TABLE async_jobs ADD COLUMN tags TEXT;

-- Rows written before this migration get the reason their status implies, so no unpriced row is silent.
UPDATE usage_log SET cost_note = CASE
        WHEN attempt_of IS NOT NULL THEN 'failed attempt: not billed (see attempt_of)'
        WHEN status = 'error' THEN 'failed: only success is billed'
        WHEN cost_status = 'estimated' THEN 'estimated (recorded before cost notes)'
        WHEN cost_status = 'unpriced' THEN 'no catalog price (recorded before cost notes)'
        WHEN cost_status = 'free' THEN 'free: within the Workers AI daily free neurons'
        ELSE 'provider reported no usage'
    END
WHERE cost_status <> 'priced' AND cost_note IS NULL;

-- Price correction found by the cost table tests (tests/unit/test_cost_table.py): Claude Sonnet 5.5's cache
-- reads cost $0.20 per million tokens, not $0.10 (Anthropic's model page platform.claude.com/docs/en/models/
-- sonnet-5-5/overview, "Cache read $0.20 / MTok", the same as Sonnet 5; read 2026-11). A new price version,
-- so rows billed before keep theirs.
UPDATE models SET cached_input_usd_per_mtok = 0.20, price_version = price_version + 1,
                  updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
WHERE id = 'anthropic/claude-sonnet-5-5' AND cached_input_usd_per_mtok = 0.10;

INSERT INTO model_price_history (model_id, price_version, prices, source)
SELECT id, price_version,
       json_object('input_usd_per_mtok', input_usd_per_mtok,
                   'cached_input_usd_per_mtok', cached_input_usd_per_mtok,
                   'output_usd_per_mtok', output_usd_per_mtok),
       'migration 0023: Anthropic model page'
FROM models
WHERE id = 'anthropic/claude-sonnet-5-5' AND cached_input_usd_per_mtok = 0.20
  AND NOT EXISTS (SELECT 1 FROM model_price_history h WHERE h.model_id = models.id AND h.price_version = models.price_version);
