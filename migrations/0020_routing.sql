-- Routing and fallbacks (docs/fallbacks.md). 0018 is unused on purpose: no migration was ever numbered
-- 0018, so nothing needs it.

-- Every upstream attempt leaves a usage row. A failed earlier attempt is logged as '<request_id>.<n>' with
-- attempt_of = <request_id>, the request's final row (which has attempt_of NULL), so one request's
-- attempts are found without parsing ids. No foreign key: the usage log references nothing (docs/schema.md).
ALTER TABLE usage_log ADD COLUMN attempt_of TEXT;
-- Partial: only the failed attempts carry the column, so the index stays as small as they are.
CREATE INDEX idx_usage_attempt_of ON usage_log(attempt_of) WHERE attempt_of IS NOT NULL;

-- The global default chains (org_id NULL, every model: '*'), one per category that may fall back; an org's
-- row for the same category beats them, and so does a more specific global pattern. The same rules are
-- built into the gateway (pipeline/fallback_rules.py DEFAULT_RULES, tested equal to these rows) so a D1
-- outage falls back exactly as a healthy database would.
-- The provider's fault (rate_limit, server_error, timeout) and the key's (auth, quota_exceeded) or a model
-- gone from one provider (model_not_found): the engine first retries the same model at another key level or
-- provider; there is no extra model chain by default, and free Workers AI is the last resort; at most 3
-- models from the chain.
INSERT INTO fallback_chains (id, org_id, error_type, model_pattern, chain, allow_workers_ai, max_attempts) VALUES
    ('default-rate_limit',      NULL, 'rate_limit',      '*', '[]', 1, 3),
    ('default-server_error',    NULL, 'server_error',    '*', '[]', 1, 3),
    ('default-timeout',         NULL, 'timeout',         '*', '[]', 1, 3),
    ('default-model_not_found', NULL, 'model_not_found', '*', '[]', 1, 3),
    ('default-auth',            NULL, 'auth',            '*', '[]', 1, 3),
    ('default-quota_exceeded',  NULL, 'quota_exceeded',  '*', '[]', 1, 3),
-- The prompt did not fit: "auto" asks the router for its next candidate, filtered to a larger context
-- window than the model that failed; two tries are enough (a second miss means nothing larger fits).
    ('default-context_length',  NULL, 'context_length',  '*', '["auto"]', 1, 2),
-- The provider refused the content: another model is a policy decision, so by default nothing is tried
-- (not even Workers AI); an org opts in with its own content_filter row.
    ('default-content_filter',  NULL, 'content_filter',  '*', '[]', 0, 1);
-- No row for invalid_request: the caller's own error never falls back (the gateway ignores such a row,
-- and the admin API refuses to create one).
