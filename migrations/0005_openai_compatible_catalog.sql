-- The OpenAI-compatible family: DeepSeek, Groq, xAI, Perplexity, Together AI (adapter = folder name).
-- Prices in USD per million tokens from each provider's public pricing page as last checked
-- (DeepSeek: V3.2 prices, the same for deepseek-chat and deepseek-reasoner; Groq and Together AI:
-- serverless list prices; Perplexity: token prices only — its per-request search fees are not modelled
-- here; xAI: the standard-context tier, prices double above 128K tokens for grok-4). A NULL cached
-- price means the provider publishes none (billed at the input price). Scores are the project's
-- editorial 0-10 ratings until measured ones arrive.

INSERT INTO providers (id, adapter, kind, display_name) VALUES
    ('deepseek',   'deepseek',   'builtin', 'DeepSeek'),
    ('groq',       'groq',       'builtin', 'Groq'),
    ('xai',        'xai',        'builtin', 'xAI'),
    ('perplexity', 'perplexity', 'builtin', 'Perplexity'),
    ('together',   'together',   'builtin', 'Together AI');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_vision, supports_tools,
                    supports_json, context_window, max_output_tokens, input_usd_per_mtok,
                    cached_input_usd_per_mtok, output_usd_per_mtok, quality_score, speed_score, score_source) VALUES
    ('deepseek/deepseek-chat',      'deepseek', 'deepseek-chat',      'DeepSeek-V3.2 (chat)',      'chat', 0, 1, 1, 128000,  8192, 0.28, 0.028, 0.42, 7.5, 6.5, 'editorial'),
    ('deepseek/deepseek-reasoner',  'deepseek', 'deepseek-reasoner',  'DeepSeek-V3.2 (reasoner)',  'chat', 0, 1, 1, 128000, 65536, 0.28, 0.028, 0.42, 8.5, 4.5, 'editorial'),

    ('groq/llama-3.3-70b-versatile', 'groq', 'llama-3.3-70b-versatile', 'Llama 3.3 70B Versatile (Groq)', 'chat', 0, 1, 1, 131072,  32768, 0.59, NULL,  0.79, 7.0, 9.5, 'editorial'),
    ('groq/llama-3.1-8b-instant',    'groq', 'llama-3.1-8b-instant',    'Llama 3.1 8B Instant (Groq)',    'chat', 0, 1, 1, 131072, 131072, 0.05, NULL,  0.08, 5.0, 10.0, 'editorial'),
    ('groq/openai/gpt-oss-120b',     'groq', 'openai/gpt-oss-120b',     'GPT-OSS 120B (Groq)',            'chat', 0, 1, 1, 131072,  65536, 0.15, 0.075, 0.60, 8.0, 9.5, 'editorial'),

    ('xai/grok-4',      'xai', 'grok-4',      'Grok 4',      'chat', 1, 1, 1,  256000, NULL,  3.00, 0.75,  15.00, 9.0, 5.0, 'editorial'),
    ('xai/grok-4.3',    'xai', 'grok-4.3',    'Grok 4.3',    'chat', 1, 1, 1, 1000000, NULL,  1.25, 0.20,   2.50, 9.0, 6.5, 'editorial'),
    ('xai/grok-3-mini', 'xai', 'grok-3-mini', 'Grok 3 Mini', 'chat', 0, 1, 1,  131072, NULL,  0.30, 0.075,  0.50, 7.0, 7.5, 'editorial'),

    ('perplexity/sonar',               'perplexity', 'sonar',               'Sonar',               'chat', 1, 0, 1, 128000, NULL, 1.00, NULL,  1.00, 6.5, 8.0, 'editorial'),
    ('perplexity/sonar-pro',           'perplexity', 'sonar-pro',           'Sonar Pro',           'chat', 1, 0, 1, 200000, 8000, 3.00, NULL, 15.00, 8.0, 6.5, 'editorial'),
    ('perplexity/sonar-reasoning',     'perplexity', 'sonar-reasoning',     'Sonar Reasoning',     'chat', 1, 0, 1, 128000, NULL, 1.00, NULL,  5.00, 7.5, 5.5, 'editorial'),
    ('perplexity/sonar-reasoning-pro', 'perplexity', 'sonar-reasoning-pro', 'Sonar Reasoning Pro', 'chat', 1, 0, 1, 128000, NULL, 2.00, NULL,  8.00, 8.5, 4.5, 'editorial'),

    ('together/meta-llama/Llama-3.3-70B-Instruct-Turbo',      'together', 'meta-llama/Llama-3.3-70B-Instruct-Turbo',      'Llama 3.3 70B Instruct Turbo (Together)', 'chat', 0, 1, 1, 131072, NULL, 0.88, NULL, 0.88, 7.0, 7.5, 'editorial'),
    ('together/meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo',  'together', 'meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo',  'Llama 3.1 8B Instruct Turbo (Together)',  'chat', 0, 1, 1, 131072, NULL, 0.18, NULL, 0.18, 5.0, 9.0, 'editorial'),
    ('together/deepseek-ai/DeepSeek-V3',                      'together', 'deepseek-ai/DeepSeek-V3',                      'DeepSeek V3 (Together)',                  'chat', 0, 1, 1, 131072, NULL, 1.25, NULL, 1.25, 7.5, 6.0, 'editorial'),
    ('together/Qwen/Qwen2.5-72B-Instruct-Turbo',              'together', 'Qwen/Qwen2.5-72B-Instruct-Turbo',              'Qwen2.5 72B Instruct Turbo (Together)',   'chat', 0, 1, 1,  32768, NULL, 1.20, NULL, 1.20, 7.0, 7.0, 'editorial'),
    ('together/openai/gpt-oss-120b',                          'together', 'openai/gpt-oss-120b',                          'GPT-OSS 120B (Together)',                 'chat', 0, 1, 1, 131072, NULL, 0.15, NULL, 0.60, 8.0, 7.5, 'editorial');

INSERT INTO model_price_history (model_id, price_version, prices, source)
SELECT id, price_version,
       json_object('input_usd_per_mtok', input_usd_per_mtok,
                   'cached_input_usd_per_mtok', cached_input_usd_per_mtok,
                   'output_usd_per_mtok', output_usd_per_mtok),
       'seed'
FROM models
WHERE provider_id IN ('deepseek', 'groq', 'xai', 'perplexity', 'together');
