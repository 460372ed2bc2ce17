-- Analytics views over usage_log and model_health (see docs/schema.md).
-- Idempotent: every view is dropped and created again, so this file can be run after every migration:
--   scripts/wrangler.sh d1 execute ai-gateway --local --file d1_views.sql     (or --remote)
-- Plain SQLite as D1 accepts it: no PRAGMA, no BEGIN/COMMIT, no ATTACH.
--
-- Conventions shared by the views:
--   * day = substr(created_at, 1, 10) 'YYYY-MM-DD', hour = substr(created_at, 1, 13) 'YYYY-MM-DD HH',
--     month = substr(created_at, 1, 7) 'YYYY-MM' -- all UTC, because created_at is UTC text.
--   * A request that failed over has one row per failed earlier attempt (attempt_of = the request's id,
--     cost 0; docs/fallbacks.md) besides its own row. requests counts the requests (attempt_of IS NULL);
--     errors counts the requests that ended in status = 'error' (a 'cancelled' request is neither an error
--     nor a success); failed_attempts counts the failed earlier attempts. Costs and tokens sum every row.
--     v_error_patterns counts every failed row: a provider's failure is a pattern even when a fallback
--     saved the request. The analytics API (docs/analytics.md) follows the same rules.
--   * cost_usd and neurons use TOTAL(), so a group with only unpriced rows shows 0.0, never NULL.
--   * Latency figures (latency, time to first token, gateway overhead) are taken over successful requests
--     only: failures end early or at a timeout and would blur the picture. Plain SQLite has no percentile
--     aggregate, so the views give averages and maxima.
--   * Views with a time column can be filtered on it (WHERE day >= '2026-11-01'); to combine rows of
--     several days, add the counts and weight averages by `successes`.

-- Cost and volume per UTC day, org, provider and model.
DROP VIEW IF EXISTS v_cost_by_day;
CREATE VIEW v_cost_by_day AS
SELECT
    substr(created_at, 1, 10)                                AS day,
    org_id,
    provider_id,
    model_id,
    SUM(CASE WHEN attempt_of IS NULL THEN 1 ELSE 0 END)      AS requests,
    SUM(CASE WHEN attempt_of IS NULL AND status = 'error' THEN 1 ELSE 0 END) AS errors,
    SUM(CASE WHEN attempt_of IS NOT NULL THEN 1 ELSE 0 END)  AS failed_attempts,
    SUM(input_tokens)                                        AS input_tokens,
    SUM(cached_input_tokens)                                 AS cached_input_tokens,
    SUM(output_tokens)                                       AS output_tokens,
    SUM(reasoning_tokens)                                    AS reasoning_tokens,
    TOTAL(neurons)                                           AS neurons,
    TOTAL(cost_usd)                                          AS cost_usd
FROM usage_log
GROUP BY day, org_id, provider_id, model_id;

-- All-time totals per model, with the catalog's display name when the model is still in it.
DROP VIEW IF EXISTS v_cost_by_model;
CREATE VIEW v_cost_by_model AS
SELECT
    u.provider_id                                            AS provider_id,
    u.model_id                                               AS model_id,
    m.display_name                                           AS display_name,
    SUM(CASE WHEN u.attempt_of IS NULL THEN 1 ELSE 0 END)    AS requests,
    SUM(CASE WHEN u.attempt_of IS NULL AND u.status = 'error' THEN 1 ELSE 0 END) AS errors,
    SUM(CASE WHEN u.attempt_of IS NOT NULL THEN 1 ELSE 0 END) AS failed_attempts,
    SUM(u.input_tokens)                                      AS input_tokens,
    SUM(u.cached_input_tokens)                               AS cached_input_tokens,
    SUM(u.output_tokens)                                     AS output_tokens,
    SUM(u.reasoning_tokens)                                  AS reasoning_tokens,
    TOTAL(u.cost_usd)                                        AS cost_usd,
    TOTAL(u.cost_usd) / NULLIF(SUM(CASE WHEN u.attempt_of IS NULL THEN 1 ELSE 0 END), 0)
                                                             AS avg_cost_usd_per_request,
    MIN(u.created_at)                                        AS first_request_at,
    MAX(u.created_at)                                        AS last_request_at
FROM usage_log AS u
LEFT JOIN models AS m ON m.id = u.model_id
GROUP BY u.provider_id, u.model_id;

-- Who spends: per UTC month, org, user and gateway key (monthly budgets are per these subjects).
DROP VIEW IF EXISTS v_cost_by_org_user;
CREATE VIEW v_cost_by_org_user AS
SELECT
    substr(created_at, 1, 7)                                 AS month,
    org_id,
    user_id,
    key_id,
    SUM(CASE WHEN attempt_of IS NULL THEN 1 ELSE 0 END)      AS requests,
    SUM(CASE WHEN attempt_of IS NULL AND status = 'error' THEN 1 ELSE 0 END) AS errors,
    SUM(CASE WHEN attempt_of IS NOT NULL THEN 1 ELSE 0 END)  AS failed_attempts,
    SUM(input_tokens)                                        AS input_tokens,
    SUM(output_tokens)                                       AS output_tokens,
    TOTAL(cost_usd)                                          AS cost_usd,
    MAX(created_at)                                          AS last_request_at
FROM usage_log
GROUP BY month, org_id, user_id, key_id;

-- Spend per UTC hour, org and key: what the spend_per_hour alert rules compare with their threshold.
DROP VIEW IF EXISTS v_spend_per_hour;
CREATE VIEW v_spend_per_hour AS
SELECT
    substr(created_at, 1, 13)                                AS hour,
    org_id,
    key_id,
    TOTAL(cost_usd)                                          AS cost_usd,
    SUM(CASE WHEN attempt_of IS NULL THEN 1 ELSE 0 END)      AS requests
FROM usage_log
GROUP BY hour, org_id, key_id;

-- Failures per UTC hour, provider, model and error type (the closed set of the fallback classifier).
DROP VIEW IF EXISTS v_error_patterns;
CREATE VIEW v_error_patterns AS
SELECT
    substr(created_at, 1, 13)                                AS hour,
    provider_id,
    model_id,
    COALESCE(error_type, 'unknown')                          AS error_type,
    COUNT(*)                                                 AS errors,
    SUM(CASE WHEN attempt_of IS NULL THEN 1 ELSE 0 END)      AS failed_requests,
    SUM(CASE WHEN attempt_of IS NOT NULL THEN 1 ELSE 0 END)  AS failed_attempts,
    MAX(created_at)                                          AS last_seen_at
FROM usage_log
WHERE status = 'error'
GROUP BY hour, provider_id, model_id, COALESCE(error_type, 'unknown');

-- Usage and latency per UTC day and model. Latencies are over successful requests (a failed attempt's time
-- to its failure is not a latency); throughput is output tokens per second of total latency.
DROP VIEW IF EXISTS v_model_usage_latency;
CREATE VIEW v_model_usage_latency AS
SELECT
    substr(created_at, 1, 10)                                AS day,
    provider_id,
    model_id,
    SUM(CASE WHEN attempt_of IS NULL THEN 1 ELSE 0 END)      AS requests,
    SUM(CASE WHEN status = 'success' THEN 1 ELSE 0 END)      AS successes,
    SUM(CASE WHEN attempt_of IS NULL AND status = 'error' THEN 1 ELSE 0 END) AS errors,
    SUM(CASE WHEN attempt_of IS NOT NULL THEN 1 ELSE 0 END)  AS failed_attempts,
    AVG(CASE WHEN status = 'success' THEN latency_ms END)    AS avg_latency_ms,
    MAX(CASE WHEN status = 'success' THEN latency_ms END)    AS max_latency_ms,
    AVG(CASE WHEN status = 'success' THEN ttft_ms END)       AS avg_ttft_ms,
    AVG(CASE WHEN status = 'success' THEN overhead_ms END)   AS avg_overhead_ms,
    MAX(CASE WHEN status = 'success' THEN overhead_ms END)   AS max_overhead_ms,
    SUM(input_tokens)                                        AS input_tokens,
    SUM(output_tokens)                                       AS output_tokens,
    SUM(CASE WHEN status = 'success' THEN output_tokens ELSE 0 END) * 1000.0
        / NULLIF(TOTAL(CASE WHEN status = 'success' THEN latency_ms END), 0)
                                                             AS output_tokens_per_second
FROM usage_log
GROUP BY day, provider_id, model_id;

-- Health per provider right now: circuit states from model_health, error rates from the usage of the
-- last hour and the last 24 hours (relative to the time of the query). Lists every provider that is
-- enabled in the catalog, has model_health rows or had traffic in the last 24 hours.
DROP VIEW IF EXISTS v_provider_health;
CREATE VIEW v_provider_health AS
WITH
health AS (
    SELECT
        provider_id,
        COUNT(*)                                                   AS models,
        SUM(CASE WHEN circuit_state = 'open' THEN 1 ELSE 0 END)      AS open_circuits,
        SUM(CASE WHEN circuit_state = 'half_open' THEN 1 ELSE 0 END) AS half_open_circuits,
        AVG(latency_ewma_ms)                                       AS avg_latency_ewma_ms,
        MAX(last_error_at)                                         AS last_error_at,
        MAX(last_success_at)                                       AS last_success_at
    FROM model_health
    GROUP BY provider_id
),
recent AS (
    SELECT
        provider_id,
        SUM(CASE WHEN attempt_of IS NULL
                  AND created_at >= strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour')
                 THEN 1 ELSE 0 END)                                AS requests_last_hour,
        SUM(CASE WHEN attempt_of IS NULL AND status = 'error'
                  AND created_at >= strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 hour')
                 THEN 1 ELSE 0 END)                                AS errors_last_hour,
        SUM(CASE WHEN attempt_of IS NULL THEN 1 ELSE 0 END)        AS requests_last_day,
        SUM(CASE WHEN attempt_of IS NULL AND status = 'error' THEN 1 ELSE 0 END) AS errors_last_day,
        SUM(CASE WHEN attempt_of IS NOT NULL THEN 1 ELSE 0 END)    AS failed_attempts_last_day,
        AVG(CASE WHEN status = 'success' THEN latency_ms END)      AS avg_latency_ms_last_day
    FROM usage_log
    WHERE created_at >= strftime('%Y-%m-%d %H:%M:%f', 'now', '-1 day')
      AND provider_id IS NOT NULL
    GROUP BY provider_id
),
known AS (
    SELECT provider_id FROM health
    UNION
    SELECT provider_id FROM recent
    UNION
    SELECT id FROM providers WHERE enabled = 1
)
SELECT
    k.provider_id                                                  AS provider_id,
    p.display_name                                                 AS display_name,
    COALESCE(h.models, 0)                                          AS models,
    COALESCE(h.open_circuits, 0)                                   AS open_circuits,
    COALESCE(h.half_open_circuits, 0)                              AS half_open_circuits,
    COALESCE(r.requests_last_hour, 0)                              AS requests_last_hour,
    COALESCE(r.errors_last_hour, 0)                                AS errors_last_hour,
    CAST(r.errors_last_hour AS REAL) / NULLIF(r.requests_last_hour, 0) AS error_rate_last_hour,
    COALESCE(r.requests_last_day, 0)                               AS requests_last_day,
    COALESCE(r.errors_last_day, 0)                                 AS errors_last_day,
    CAST(r.errors_last_day AS REAL) / NULLIF(r.requests_last_day, 0)   AS error_rate_last_day,
    COALESCE(r.failed_attempts_last_day, 0)                        AS failed_attempts_last_day,
    r.avg_latency_ms_last_day                                      AS avg_latency_ms_last_day,
    h.avg_latency_ewma_ms                                          AS avg_latency_ewma_ms,
    h.last_error_at                                                AS last_error_at,
    h.last_success_at                                              AS last_success_at
FROM known AS k
LEFT JOIN health AS h ON h.provider_id = k.provider_id
LEFT JOIN recent AS r ON r.provider_id = k.provider_id
LEFT JOIN providers AS p ON p.id = k.provider_id;
