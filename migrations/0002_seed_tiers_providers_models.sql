-- Seed data: the four tiers, the built-in providers of this release and their catalog,
-- and the default spend alert rules. Later releases add rows in their own migrations.

INSERT INTO tiers (id, name, daily_request_limit, monthly_budget_usd, pay_as_you_go) VALUES
    ('free',         'Free',         10,   NULL, 0),
    ('personal',     'Personal',     100,  NULL, 0),
    ('professional', 'Professional', 1000, NULL, 0),
    ('business',     'Business',     NULL, NULL, 1);

INSERT INTO providers (id, adapter, kind, display_name) VALUES
    ('openai', 'openai', 'builtin', 'OpenAI');

-- Prices in USD per million tokens from OpenAI's public pricing page; scores are the
-- project's editorial 0-10 ratings (score_source says so) until issue 6 brings measured ones.
INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_vision, supports_tools,
                    supports_json, context_window, max_output_tokens, input_usd_per_mtok,
                    cached_input_usd_per_mtok, output_usd_per_mtok, quality_score, speed_score, score_source) VALUES
    ('openai/gpt-4o-mini',   'openai', 'gpt-4o-mini',   'GPT-4o mini',   'chat', 1, 1, 1, 128000,  16384, 0.15, 0.075, 0.60, 6.5, 8.5, 'editorial'),
    ('openai/gpt-4o',        'openai', 'gpt-4o',        'GPT-4o',        'chat', 1, 1, 1, 128000,  16384, 2.50, 1.25, 10.00, 8.0, 7.0, 'editorial'),
    ('openai/gpt-4.1',       'openai', 'gpt-4.1',       'GPT-4.1',       'chat', 1, 1, 1, 1047576, 32768, 2.00, 0.50, 8.00, 8.5, 7.0, 'editorial'),
    ('openai/gpt-4.1-mini',  'openai', 'gpt-4.1-mini',  'GPT-4.1 mini',  'chat', 1, 1, 1, 1047576, 32768, 0.40, 0.10, 1.60, 7.5, 8.0, 'editorial'),
    ('openai/gpt-4.1-nano',  'openai', 'gpt-4.1-nano',  'GPT-4.1 nano',  'chat', 1, 1, 1, 1047576, 32768, 0.10, 0.025, 0.40, 6.0, 9.0, 'editorial'),
    ('openai/o4-mini',       'openai', 'o4-mini',       'o4-mini',       'chat', 1, 1, 1, 200000, 100000, 1.10, 0.275, 4.40, 8.5, 5.0, 'editorial'),
    ('openai/gpt-5',         'openai', 'gpt-5',         'GPT-5',         'chat', 1, 1, 1, 400000, 128000, 1.25, 0.125, 10.00, 9.5, 5.0, 'editorial'),
    ('openai/gpt-5-mini',    'openai', 'gpt-5-mini',    'GPT-5 mini',    'chat', 1, 1, 1, 400000, 128000, 0.25, 0.025, 2.00, 8.5, 7.0, 'editorial'),
    ('openai/gpt-5-nano',    'openai', 'gpt-5-nano',    'GPT-5 nano',    'chat', 1, 1, 1, 400000, 128000, 0.05, 0.005, 0.40, 7.0, 8.5, 'editorial');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming, context_window,
                    input_usd_per_mtok, quality_score, speed_score, score_source) VALUES
    ('openai/text-embedding-3-small', 'openai', 'text-embedding-3-small', 'Embedding 3 small', 'embedding', 0, 8191, 0.02, 7.0, 9.0, 'editorial'),
    ('openai/text-embedding-3-large', 'openai', 'text-embedding-3-large', 'Embedding 3 large', 'embedding', 0, 8191, 0.13, 8.5, 8.0, 'editorial');

INSERT INTO model_price_history (model_id, price_version, prices, source)
SELECT id, price_version,
       json_object('input_usd_per_mtok', input_usd_per_mtok,
                   'cached_input_usd_per_mtok', cached_input_usd_per_mtok,
                   'output_usd_per_mtok', output_usd_per_mtok),
       'seed'
FROM models;

-- The spend alert defaults: $1/hour warning, $5/hour critical, gateway-wide.
INSERT INTO alert_rules (id, kind, severity, threshold, window_minutes) VALUES
    ('default-spend-warning',  'spend_per_hour', 'warning',  1.0, 60),
    ('default-spend-critical', 'spend_per_hour', 'critical', 5.0, 60);
