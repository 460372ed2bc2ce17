-- Google Gemini (Gemini API, generativelanguage.googleapis.com): the provider and its chat models.
--
-- Prices in USD per million tokens from Google's Gemini API pricing page (Standard tier, paid), for
-- prompts up to 200k tokens where the page has two tiers (2.5 Pro and 3 Pro charge more above that; the
-- catalog has one price per column, so long prompts are under-priced until tiered prices arrive).
-- Text/image/video input prices (audio input costs more). Output prices include thinking tokens, so
-- reasoning is billed as output (reasoning_usd_per_mtok stays NULL). Cached input is the context-caching
-- price. Scores are the project's editorial 0-10 ratings (score_source says so).

INSERT INTO providers (id, adapter, kind, display_name) VALUES
    ('gemini', 'gemini', 'builtin', 'Google Gemini');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_vision, supports_tools,
                    supports_json, context_window, max_output_tokens, input_usd_per_mtok,
                    cached_input_usd_per_mtok, output_usd_per_mtok, quality_score, speed_score, score_source) VALUES
    ('gemini/gemini-3-pro-preview',   'gemini', 'gemini-3-pro-preview',   'Gemini 3 Pro (preview)',   'chat', 1, 1, 1, 1048576, 65536, 2.00,  0.20,  12.00, 9.5, 5.5, 'editorial'),
    ('gemini/gemini-3-flash-preview', 'gemini', 'gemini-3-flash-preview', 'Gemini 3 Flash (preview)', 'chat', 1, 1, 1, 1048576, 65536, 0.50,  0.05,  3.00,  8.5, 8.0, 'editorial'),
    ('gemini/gemini-2.5-pro',         'gemini', 'gemini-2.5-pro',         'Gemini 2.5 Pro',           'chat', 1, 1, 1, 1048576, 65536, 1.25,  0.125, 10.00, 9.0, 6.0, 'editorial'),
    ('gemini/gemini-2.5-flash',       'gemini', 'gemini-2.5-flash',       'Gemini 2.5 Flash',         'chat', 1, 1, 1, 1048576, 65536, 0.30,  0.03,  2.50,  8.0, 8.0, 'editorial'),
    ('gemini/gemini-2.5-flash-lite',  'gemini', 'gemini-2.5-flash-lite',  'Gemini 2.5 Flash-Lite',    'chat', 1, 1, 1, 1048576, 65536, 0.10,  0.01,  0.40,  6.5, 9.0, 'editorial'),
    ('gemini/gemini-2.0-flash',       'gemini', 'gemini-2.0-flash',       'Gemini 2.0 Flash',         'chat', 1, 1, 1, 1048576, 8192,  0.10,  0.025, 0.40,  6.5, 8.5, 'editorial'),
    ('gemini/gemini-2.0-flash-lite',  'gemini', 'gemini-2.0-flash-lite',  'Gemini 2.0 Flash-Lite',    'chat', 1, 1, 1, 1048576, 8192,  0.075, NULL,  0.30,  5.5, 9.0, 'editorial');

INSERT INTO model_price_history (model_id, price_version, prices, source)
SELECT id, price_version,
       json_object('input_usd_per_mtok', input_usd_per_mtok,
                   'cached_input_usd_per_mtok', cached_input_usd_per_mtok,
                   'output_usd_per_mtok', output_usd_per_mtok),
       'seed'
FROM models
WHERE provider_id = 'gemini';
