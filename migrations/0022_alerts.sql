-- Alerting (docs/alerts.md). The tables alert_rules, alerts, webhooks and alert_deliveries are in 0001;
-- 0016 seeded 'default-rate-limiter-fail-open'. This adds each delivery attempt's record, the indexes the
-- cron evaluator and GET /admin/alerts read by, and the rest of the issue's default rules as global rows
-- (editable and deletable through /admin/alerts/rules like any other). The spend defaults are already
-- seeded by 0002: 'default-spend-warning' (over $1 in 60 min) and 'default-spend-critical' (over $5).

-- One row per HTTP attempt of a delivery: the webhook's status code, or the error when none came back.
CREATE TABLE alert_delivery_attempts (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id          INTEGER NOT NULL REFERENCES alert_deliveries(id) ON DELETE CASCADE,
    attempt              INTEGER NOT NULL,                 -- 1, 2, ... (alert_deliveries.attempts after it)
    status_code          INTEGER,                          -- NULL: no HTTP answer (error says why)
    error                TEXT,
    duration_ms          REAL,
    attempted_at         TEXT NOT NULL
);
CREATE INDEX idx_alert_delivery_attempts_delivery ON alert_delivery_attempts(delivery_id, attempt);
CREATE INDEX idx_alert_deliveries_alert ON alert_deliveries(alert_id);
CREATE INDEX idx_alerts_org_fired ON alerts(org_id, fired_at);
CREATE INDEX idx_alerts_rule ON alerts(rule_id, status);
CREATE INDEX idx_alert_rules_org ON alert_rules(org_id);

-- The Workers AI neuron budget and every key/user/org budget at 80 % (warning) and 100 % (critical);
-- any open circuit (warning); a provider whose error rate reaches 50 % over 15 minutes with at least
-- 20 requests (warning).
INSERT INTO alert_rules (id, kind, severity, threshold, window_minutes, params) VALUES
    ('default-neuron-budget-80',        'neuron_budget',  'warning',  80,  1440, NULL),
    ('default-neuron-budget-100',       'neuron_budget',  'critical', 100, 1440, NULL),
    ('default-budget-80',               'budget',         'warning',  80,  1440, NULL),
    ('default-budget-100',              'budget',         'critical', 100, 1440, NULL),
    ('default-circuit-open',            'circuit_open',   'warning',  1,   5, NULL),
    ('default-error-rate-provider',     'error_rate',     'warning',  0.5, 15, '{"by": "provider", "min_requests": 20}');
