-- Model health (docs/health.md): when the circuit last changed state, so isolates that flush their own
-- breaker merge by "the latest transition wins" instead of "the last writer wins".
ALTER TABLE model_health ADD COLUMN state_changed_at TEXT;
