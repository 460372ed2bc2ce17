-- Cloudflare Workers AI: the provider and its chat models (text generation, one vision model).
--
-- Workers AI bills in neurons: 10,000 a day free, then $0.011 per 1,000 neurons (Workers Paid). The neuron
-- rates per million input/output tokens and the USD prices per million tokens are the pricing page's
-- (developers.cloudflare.com/workers-ai/platform/pricing); the USD columns hold the paid rate beyond the
-- free allocation (neurons × $0.011 / 1,000), so a usage row's cost_usd is what the call costs once the
-- daily free neurons are spent. Model ids keep Cloudflare's names: 'workers-ai/@cf/meta/…'.
-- Context windows are left NULL (not verified here); scores are editorial.

INSERT INTO providers (id, adapter, kind, display_name) VALUES
    ('workers-ai', 'workers_ai', 'builtin', 'Cloudflare Workers AI');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_vision, supports_tools,
                    supports_json, input_usd_per_mtok, output_usd_per_mtok,
                    neurons_per_mtok_input, neurons_per_mtok_output, quality_score, speed_score, score_source) VALUES
    ('workers-ai/@cf/meta/llama-3.3-70b-instruct-fp8-fast', 'workers-ai', '@cf/meta/llama-3.3-70b-instruct-fp8-fast',
     'Llama 3.3 70B Instruct (fp8, fast)', 'chat', 0, 1, 1, 0.293, 2.253, 26668, 204805, 7.0, 7.0, 'editorial'),
    ('workers-ai/@cf/meta/llama-3.1-8b-instruct', 'workers-ai', '@cf/meta/llama-3.1-8b-instruct',
     'Llama 3.1 8B Instruct', 'chat', 0, 0, 1, 0.282, 0.827, 25608, 75147, 5.0, 8.0, 'editorial'),
    ('workers-ai/@cf/meta/llama-3.1-8b-instruct-fp8-fast', 'workers-ai', '@cf/meta/llama-3.1-8b-instruct-fp8-fast',
     'Llama 3.1 8B Instruct (fp8, fast)', 'chat', 0, 0, 0, 0.045, 0.384, 4119, 34868, 5.0, 9.0, 'editorial'),
    ('workers-ai/@cf/meta/llama-3.2-11b-vision-instruct', 'workers-ai', '@cf/meta/llama-3.2-11b-vision-instruct',
     'Llama 3.2 11B Vision Instruct', 'chat', 1, 0, 0, 0.049, 0.676, 4410, 61493, 5.5, 8.0, 'editorial');

INSERT INTO model_price_history (model_id, price_version, prices, source)
SELECT id, price_version,
       json_object('input_usd_per_mtok', input_usd_per_mtok,
                   'output_usd_per_mtok', output_usd_per_mtok,
                   'neurons_per_mtok_input', neurons_per_mtok_input,
                   'neurons_per_mtok_output', neurons_per_mtok_output),
       'seed'
FROM models
WHERE provider_id = 'workers-ai';
