-- Anthropic: the provider row and its Claude chat models.
--
-- Prices in USD per million tokens from Anthropic's public pricing page (platform.claude.com/docs/en/
-- about-claude/pricing, read 2026-11): input = base input tokens, cached input = "cache hits & refreshes",
-- output = output tokens. Cache writes (1.25x input for 5 minutes, 2x for an hour) have no column yet:
-- the adapter counts cache_creation_input_tokens as input, billed at the input price.
-- Claude Haiku 5.5 is priced in two bands by prompt length; the row holds the band up to 100,000 prompt
-- tokens ($0.10 / $0.50, cache hits $0.01), longer prompts cost $0.50 / $2.50 upstream.
-- Claude Opus 4.1 is retired on the Claude API (it stays on Bedrock and Google Cloud): its row is kept,
-- disabled, so usage rows that name it still join a price.
-- Scores are the project's editorial 0-10 ratings until measured ones arrive (score_source says so).

INSERT INTO providers (id, adapter, kind, display_name) VALUES
    ('anthropic', 'anthropic', 'builtin', 'Anthropic');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_vision, supports_tools,
                    supports_json, context_window, max_output_tokens, input_usd_per_mtok,
                    cached_input_usd_per_mtok, output_usd_per_mtok, quality_score, speed_score, score_source,
                    enabled) VALUES
    ('anthropic/claude-fable-5-1',   'anthropic', 'claude-fable-5-1',   'Claude Fable 5.1',  'chat', 1, 1, 1, 1000000, 128000, 10.00, 0.25, 50.00, 9.8, 4.0, 'editorial', 1),
    ('anthropic/claude-opus-5-5',    'anthropic', 'claude-opus-5-5',    'Claude Opus 5.5',   'chat', 1, 1, 1, 1000000, 128000,  4.00, 0.20, 20.00, 9.6, 5.5, 'editorial', 1),
    ('anthropic/claude-opus-5',      'anthropic', 'claude-opus-5',      'Claude Opus 5',     'chat', 1, 1, 1, 1000000, 128000,  5.00, 0.50, 25.00, 9.4, 5.0, 'editorial', 1),
    ('anthropic/claude-sonnet-5-5',  'anthropic', 'claude-sonnet-5-5',  'Claude Sonnet 5.5', 'chat', 1, 1, 1, 1000000, 128000,  2.00, 0.10, 10.00, 9.2, 7.0, 'editorial', 1),
    ('anthropic/claude-sonnet-5',    'anthropic', 'claude-sonnet-5',    'Claude Sonnet 5',   'chat', 1, 1, 1, 1000000, 128000,  2.00, 0.20, 10.00, 9.0, 7.0, 'editorial', 1),
    ('anthropic/claude-haiku-5-5',   'anthropic', 'claude-haiku-5-5',   'Claude Haiku 5.5',  'chat', 1, 1, 1, 1000000, 128000,  0.10, 0.01,  0.50, 8.0, 9.0, 'editorial', 1),
    ('anthropic/claude-opus-4-5',    'anthropic', 'claude-opus-4-5',    'Claude Opus 4.5',   'chat', 1, 1, 1,  200000,  64000,  5.00, 0.50, 25.00, 9.0, 5.5, 'editorial', 1),
    ('anthropic/claude-sonnet-4-5',  'anthropic', 'claude-sonnet-4-5',  'Claude Sonnet 4.5', 'chat', 1, 1, 1,  200000,  64000,  3.00, 0.30, 15.00, 8.7, 7.0, 'editorial', 1),
    ('anthropic/claude-haiku-4-5',   'anthropic', 'claude-haiku-4-5',   'Claude Haiku 4.5',  'chat', 1, 1, 1,  200000,  64000,  1.00, 0.10,  5.00, 7.5, 8.5, 'editorial', 1),
    ('anthropic/claude-opus-4-1',    'anthropic', 'claude-opus-4-1',    'Claude Opus 4.1',   'chat', 1, 1, 1,  200000,  32000, 15.00, 1.50, 75.00, 8.7, 4.5, 'editorial', 0);

INSERT INTO model_price_history (model_id, price_version, prices, source)
SELECT id, price_version,
       json_object('input_usd_per_mtok', input_usd_per_mtok,
                   'cached_input_usd_per_mtok', cached_input_usd_per_mtok,
                   'output_usd_per_mtok', output_usd_per_mtok),
       'seed'
FROM models
WHERE provider_id = 'anthropic';
