-- Request limits, budgets and the Workers AI neuron budget (docs/limits.md).
-- The tables are in 0001 (rate_limit_counters, spend_counters, neuron_usage, gateway_events) and the
-- tiers' daily request limits are seeded in 0002 as the issue sets them (free 10, personal 100,
-- professional 1000, business unlimited and pay as you go): nothing there needs changing.

-- The rate limiter fails open when D1 cannot count; each time is a gateway_events row of kind
-- 'rate_limiter_fail_open'. One is already worth a look: fire at the first in an hour.
INSERT INTO alert_rules (id, kind, severity, threshold, window_minutes) VALUES
    ('default-rate-limiter-fail-open', 'rate_limiter_fail_open', 'critical', 1, 60);
