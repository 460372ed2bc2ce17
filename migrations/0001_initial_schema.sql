-- The gateway's data model for the whole mission (see docs/schema.md).
-- Times are UTC text 'YYYY-MM-DD HH:MM:SS.SSS' so they sort, compare with datetime() and slice
-- into days (substr(t, 1, 10)) and hours (substr(t, 1, 13)) without functions on indexed columns.
-- Money is REAL USD; token counts are INTEGER; JSON columns hold small lists and maps.

-- Tiers: what a caller may do per day; editable rows, seeded below.
CREATE TABLE tiers (
    id                   TEXT PRIMARY KEY,                 -- free | personal | professional | business
    name                 TEXT NOT NULL,
    daily_request_limit  INTEGER,                          -- NULL = unlimited
    monthly_budget_usd   REAL,                             -- NULL = no tier-wide cap
    pay_as_you_go        INTEGER NOT NULL DEFAULT 0,       -- 1 = metered, billed for what is used
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE organizations (
    id                   TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    slug                 TEXT NOT NULL UNIQUE,
    tier_id              TEXT NOT NULL DEFAULT 'free' REFERENCES tiers(id),
    daily_budget_usd     REAL,
    monthly_budget_usd   REAL,
    default_strategy     TEXT,                             -- auto routing default for the org
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    email                TEXT UNIQUE,
    name                 TEXT,
    tier_id              TEXT NOT NULL DEFAULT 'free' REFERENCES tiers(id),
    is_system_admin      INTEGER NOT NULL DEFAULT 0,
    daily_budget_usd     REAL,
    monthly_budget_usd   REAL,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE memberships (
    org_id               TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id              TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role                 TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX idx_memberships_user ON memberships(user_id);

-- Gateway keys: only the SHA-256 of the key is stored; `prefix` is the visible start for lookup in UIs.
CREATE TABLE gateway_keys (
    id                   TEXT PRIMARY KEY,
    key_hash             TEXT NOT NULL UNIQUE,
    prefix               TEXT NOT NULL,
    name                 TEXT,
    user_id              TEXT REFERENCES users(id) ON DELETE CASCADE,
    org_id               TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    tier_id              TEXT REFERENCES tiers(id),        -- overrides the owner's tier when set
    status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'revoked')),
    expires_at           TEXT,
    revoked_at           TEXT,
    last_used_at         TEXT,
    requests_per_day     INTEGER,
    daily_budget_usd     REAL,
    monthly_budget_usd   REAL,
    allowed_models       TEXT,                             -- JSON list of model ids / patterns, NULL = all
    allowed_providers    TEXT,                             -- JSON list of provider ids, NULL = all
    default_strategy     TEXT,
    metadata             TEXT,                             -- JSON map
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX idx_gateway_keys_user ON gateway_keys(user_id);
CREATE INDEX idx_gateway_keys_org ON gateway_keys(org_id);

-- Providers: built-in adapters and custom OpenAI-compatible servers (Ollama, vLLM, LM Studio, ...).
CREATE TABLE providers (
    id                   TEXT PRIMARY KEY,                 -- the prefix of model ids: 'openai', 'ollama'
    adapter              TEXT NOT NULL,                    -- registry name of the adapter that speaks to it
    kind                 TEXT NOT NULL CHECK (kind IN ('builtin', 'custom')),
    display_name         TEXT NOT NULL,
    base_url             TEXT,                             -- NULL = the adapter's default (or env override)
    org_id               TEXT REFERENCES organizations(id) ON DELETE CASCADE,  -- custom provider owner
    enabled              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

-- Provider credentials: AES-GCM ciphertext, never the key itself; one scope per row.
CREATE TABLE provider_credentials (
    id                   TEXT PRIMARY KEY,
    provider_id          TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    scope                TEXT NOT NULL CHECK (scope IN ('user', 'org', 'tier', 'system')),
    user_id              TEXT REFERENCES users(id) ON DELETE CASCADE,
    org_id               TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    tier_id              TEXT REFERENCES tiers(id),
    ciphertext           TEXT NOT NULL,                    -- base64(nonce || AES-GCM ciphertext)
    encryption_key_id    TEXT NOT NULL,                    -- which GATEWAY_ENCRYPTION_KEY sealed it
    masked_hint          TEXT NOT NULL,                    -- e.g. 'sk-...a1b2', safe to show
    status               TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'invalid', 'disabled')),
    last_error           TEXT,
    last_failed_at       TEXT,
    last_used_at         TEXT,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CHECK (
        (scope = 'user'   AND user_id IS NOT NULL AND org_id IS NULL AND tier_id IS NULL) OR
        (scope = 'org'    AND org_id IS NOT NULL AND user_id IS NULL AND tier_id IS NULL) OR
        (scope = 'tier'   AND tier_id IS NOT NULL AND user_id IS NULL AND org_id IS NULL) OR
        (scope = 'system' AND user_id IS NULL AND org_id IS NULL AND tier_id IS NULL)
    )
);
CREATE INDEX idx_credentials_lookup ON provider_credentials(provider_id, scope, status);

-- Model catalog: one row per provider model; prices per unit, scores, capabilities, neuron rates.
CREATE TABLE models (
    id                          TEXT PRIMARY KEY,          -- 'provider/model'
    provider_id                 TEXT NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    upstream_name               TEXT NOT NULL,             -- the name the provider's API expects
    display_name                TEXT,
    modality                    TEXT NOT NULL CHECK (modality IN
                                  ('chat', 'embedding', 'image', 'tts', 'stt', 'video', 'realtime')),
    supports_vision             INTEGER NOT NULL DEFAULT 0,
    supports_tools              INTEGER NOT NULL DEFAULT 0,
    supports_json               INTEGER NOT NULL DEFAULT 0,
    supports_streaming          INTEGER NOT NULL DEFAULT 1,
    context_window              INTEGER,
    max_output_tokens           INTEGER,
    input_usd_per_mtok          REAL,                      -- per million input tokens
    cached_input_usd_per_mtok   REAL,
    output_usd_per_mtok         REAL,
    reasoning_usd_per_mtok      REAL,                      -- NULL = billed as output
    image_usd                   TEXT,                      -- JSON {"1024x1024/standard": 0.04, ...}
    tts_usd_per_mchar           REAL,                      -- per million characters
    stt_usd_per_minute          REAL,
    video_usd_per_second        REAL,
    neurons_per_mtok_input      REAL,                      -- Workers AI neuron rates
    neurons_per_mtok_output     REAL,
    neurons_per_unit            REAL,                      -- images, audio minutes, ...
    quality_score               REAL,                      -- 0-10
    speed_score                 REAL,                      -- 0-10
    score_source                TEXT,                      -- where the two scores came from
    price_version               INTEGER NOT NULL DEFAULT 1,
    enabled                     INTEGER NOT NULL DEFAULT 1,
    created_at                  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at                  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    UNIQUE (provider_id, upstream_name)
);
CREATE INDEX idx_models_upstream ON models(upstream_name);

-- Every price a model has had, so usage rows keep the price they were billed at.
CREATE TABLE model_price_history (
    model_id             TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
    price_version        INTEGER NOT NULL,
    prices               TEXT NOT NULL,                    -- JSON snapshot of the price columns
    source               TEXT,                             -- seed file, LiteLLM, models.dev, admin
    effective_from       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    PRIMARY KEY (model_id, price_version)
);

-- Live health per model: counts in the current window, latency averages and the circuit state.
CREATE TABLE model_health (
    model_id             TEXT PRIMARY KEY,
    provider_id          TEXT NOT NULL,
    circuit_state        TEXT NOT NULL DEFAULT 'closed' CHECK (circuit_state IN ('closed', 'open', 'half_open')),
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    window_start         TEXT,
    window_requests      INTEGER NOT NULL DEFAULT 0,
    window_errors        INTEGER NOT NULL DEFAULT 0,
    latency_ewma_ms      REAL,
    ttft_ewma_ms         REAL,
    last_error_type      TEXT,
    last_error_at        TEXT,
    last_success_at      TEXT,
    opened_at            TEXT,
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX idx_model_health_provider ON model_health(provider_id);

-- Fallback chains: per error category, globally (org_id NULL) or per org.
CREATE TABLE fallback_chains (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    error_type           TEXT NOT NULL CHECK (error_type IN ('rate_limit', 'auth', 'timeout',
                           'model_not_found', 'content_filter', 'quota_exceeded', 'context_length',
                           'invalid_request', 'server_error')),
    model_pattern        TEXT NOT NULL DEFAULT '*',        -- which requested models the chain applies to
    chain                TEXT NOT NULL,                    -- JSON list of model ids, tried in order
    allow_workers_ai     INTEGER NOT NULL DEFAULT 1,       -- free Workers AI as the last resort
    max_attempts         INTEGER NOT NULL DEFAULT 3,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE UNIQUE INDEX idx_fallback_chains_scope ON fallback_chains(COALESCE(org_id, ''), error_type, model_pattern);

-- One row per request, written after the response. No foreign keys: usage outlives what it names.
CREATE TABLE usage_log (
    request_id           TEXT PRIMARY KEY,
    created_at           TEXT NOT NULL,
    key_id               TEXT,
    user_id              TEXT,
    org_id               TEXT,
    tier_id              TEXT,
    endpoint             TEXT NOT NULL,                    -- chat | messages | embeddings | images | speech | ...
    requested_model      TEXT,
    provider_id          TEXT,
    model_id             TEXT,
    stream               INTEGER NOT NULL DEFAULT 0,
    status               TEXT NOT NULL CHECK (status IN ('success', 'error', 'cancelled')),
    http_status          INTEGER,
    error_type           TEXT,
    input_tokens         INTEGER NOT NULL DEFAULT 0,
    cached_input_tokens  INTEGER NOT NULL DEFAULT 0,
    output_tokens        INTEGER NOT NULL DEFAULT 0,
    reasoning_tokens     INTEGER NOT NULL DEFAULT 0,
    units                TEXT,                             -- JSON: characters, seconds, images, ...
    neurons              REAL,
    cost_usd             REAL,
    cost_status          TEXT NOT NULL DEFAULT 'priced'
                           CHECK (cost_status IN ('priced', 'estimated', 'unpriced', 'free', 'none')),
    price_version        INTEGER,
    latency_ms           REAL,
    ttft_ms              REAL,
    overhead_ms          REAL,
    key_level            TEXT,                             -- which credential level served
    route_strategy       TEXT,
    attempts             INTEGER NOT NULL DEFAULT 1,
    tags                 TEXT                              -- JSON map of attribution tags
);
CREATE INDEX idx_usage_created ON usage_log(created_at);
CREATE INDEX idx_usage_org_created ON usage_log(org_id, created_at);
CREATE INDEX idx_usage_user_created ON usage_log(user_id, created_at);
CREATE INDEX idx_usage_key_created ON usage_log(key_id, created_at);
CREATE INDEX idx_usage_model_created ON usage_log(model_id, created_at);

-- Tags broken out for attribution queries (app, feature, end user).
CREATE TABLE usage_tags (
    request_id           TEXT NOT NULL,
    tag_key              TEXT NOT NULL,
    tag_value            TEXT NOT NULL,
    PRIMARY KEY (request_id, tag_key)
);
CREATE INDEX idx_usage_tags_kv ON usage_tags(tag_key, tag_value);

-- Atomic counters: one upsert per request returns the new count (subject = 'key:<id>', 'user:<id>', ...).
CREATE TABLE rate_limit_counters (
    subject              TEXT NOT NULL,
    window               TEXT NOT NULL,                    -- the UTC day, 'YYYY-MM-DD'
    count                INTEGER NOT NULL DEFAULT 0,
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    PRIMARY KEY (subject, window)
);

-- Spend counters for budget checks without summing the usage log on the request path.
CREATE TABLE spend_counters (
    subject              TEXT NOT NULL,                    -- 'key:<id>', 'user:<id>', 'org:<id>'
    period               TEXT NOT NULL,                    -- 'YYYY-MM-DD' or 'YYYY-MM'
    spent_usd            REAL NOT NULL DEFAULT 0,
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    PRIMARY KEY (subject, period)
);

-- Workers AI neurons used per UTC day and model (the free allocation is 10,000 a day).
CREATE TABLE neuron_usage (
    day                  TEXT NOT NULL,
    model_id             TEXT NOT NULL,
    neurons              REAL NOT NULL DEFAULT 0,
    requests             INTEGER NOT NULL DEFAULT 0,
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    PRIMARY KEY (day, model_id)
);

-- Operational events worth counting and alerting on (rate limiter failing open, circuit opened, ...).
CREATE TABLE gateway_events (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    kind                 TEXT NOT NULL,
    subject              TEXT,
    detail               TEXT,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX idx_gateway_events_kind ON gateway_events(kind, created_at);

-- Alert rules: globally (org_id and key_id NULL), per org or per key.
CREATE TABLE alert_rules (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    key_id               TEXT REFERENCES gateway_keys(id) ON DELETE CASCADE,
    kind                 TEXT NOT NULL CHECK (kind IN ('spend_per_hour', 'error_rate', 'circuit_open',
                           'rate_limiter_fail_open', 'neuron_budget', 'budget')),
    severity             TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
    threshold            REAL NOT NULL,
    window_minutes       INTEGER NOT NULL DEFAULT 60,
    params               TEXT,                             -- JSON: provider/model filters, ...
    enabled              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

-- Alerts: one row per firing episode of a rule and subject; resolved when the condition clears.
CREATE TABLE alerts (
    id                   TEXT PRIMARY KEY,
    rule_id              TEXT NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    org_id               TEXT,
    subject              TEXT NOT NULL,
    severity             TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('firing', 'resolved')),
    message              TEXT NOT NULL,
    value                REAL,
    threshold            REAL,
    fired_at             TEXT NOT NULL,
    last_seen_at         TEXT NOT NULL,
    resolved_at          TEXT
);
CREATE UNIQUE INDEX idx_alerts_one_firing ON alerts(rule_id, subject) WHERE status = 'firing';

CREATE TABLE webhooks (
    id                   TEXT PRIMARY KEY,
    org_id               TEXT REFERENCES organizations(id) ON DELETE CASCADE,
    url                  TEXT NOT NULL,
    format               TEXT NOT NULL DEFAULT 'json' CHECK (format IN ('json', 'slack')),
    enabled              INTEGER NOT NULL DEFAULT 1,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE alert_deliveries (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id             TEXT NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    webhook_id           TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event                TEXT NOT NULL CHECK (event IN ('fired', 'resolved')),
    status               TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts             INTEGER NOT NULL DEFAULT 0,
    last_status_code     INTEGER,
    last_error           TEXT,
    next_attempt_at      TEXT,
    delivered_at         TEXT,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX idx_alert_deliveries_pending ON alert_deliveries(status, next_attempt_at);

-- Asynchronous provider jobs (video generation): persisted so a later GET can answer and bill them.
CREATE TABLE async_jobs (
    id                   TEXT PRIMARY KEY,
    kind                 TEXT NOT NULL DEFAULT 'video',
    key_id               TEXT,
    user_id              TEXT,
    org_id               TEXT,
    provider_id          TEXT NOT NULL,
    model_id             TEXT NOT NULL,
    upstream_job_id      TEXT NOT NULL,
    status               TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed', 'failed')),
    request              TEXT,                             -- JSON of the original request
    result               TEXT,                             -- JSON of the finished result
    error                TEXT,
    billed               INTEGER NOT NULL DEFAULT 0,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
CREATE INDEX idx_async_jobs_key ON async_jobs(key_id, created_at);
