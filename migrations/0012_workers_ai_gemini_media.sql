-- Workers AI embeddings, text-to-speech and vision models; Gemini text-to-speech models.
--
-- Workers AI (developers.cloudflare.com/workers-ai/platform/pricing): billed in neurons, $0.011 per 1,000
-- neurons beyond the free 10,000 a day; the USD columns hold the paid rate (neurons × $0.011 / 1,000), as in
-- 0007. Checked against the pricing page's source (cloudflare-docs, src/content/docs/workers-ai/platform/
-- pricing.mdx): bge-small-en-v1.5 $0.020 (1841 neurons), bge-base-en-v1.5 $0.067 (6058), bge-large-en-v1.5
-- $0.204 (18582) per million input tokens; melotts $0.0002 per audio minute (18.63 neurons); aura-1 $0.015
-- per 1,000 characters (1,363.64 neurons). aura-2-en: $0.030 per 1,000 characters (its model page; neurons
-- derived: 2,727.27). bge-m3 $0.012 per million input tokens (1075 neurons), Llama 4 Scout $0.270 / $0.850
-- (24545 / 77273 neurons), Gemma 3 12B $0.345 / $0.556 (31371 / 50560), Mistral Small 3.1 24B $0.351 / $0.555
-- (31876 / 50488) per million input / output tokens: the pricing page's rows as recorded here, not re-read
-- from the live page in this change (each pair is consistent with its neurons at $0.011 / 1,000).
--
-- Text-to-speech is billed per character of `input` (tts_usd_per_mchar, USD per million characters):
-- aura-1 $15 and aura-2-en $30 are Cloudflare's own per-character prices. MeloTTS is priced per audio
-- minute: with 0008's assumption (a minute of speech ≈ 1,000 characters) $0.0002 a minute is $0.20 per
-- million characters — an estimate. neurons_per_unit: neurons per 1,000 characters (Aura), per audio minute
-- (MeloTTS).
--
-- Gemini TTS (ai.google.dev/gemini-api/docs/pricing): gemini-2.5-flash-preview-tts $0.50 per million text
-- input tokens and $10 per million audio output tokens; gemini-2.5-pro-preview-tts $1 and $20. Audio is 32
-- tokens a second (1,920 a minute, Google's forum answer); with ~1,000 characters (~250 input tokens) a
-- minute, that is ≈ $0.0193 (flash) and ≈ $0.0387 (pro) per 1,000 characters: stored as $19.30 and $38.65
-- per million characters, an estimate of the token bill (the token prices are kept in the token columns for
-- reference). The gateway bills speech per character; it does not read Gemini's usageMetadata.
--
-- Vision: the Workers AI models below take images as `image_url` parts with `data:` URLs (their input
-- schemas: "image uri with data … HTTP URL will not be accepted"). Every other vision-capable chat model of
-- the catalog already has supports_vision = 1 (OpenAI gpt-4o/4.1/5 and o4-mini, every Claude, every Gemini
-- chat model, grok-4 and grok-4.3, Perplexity sonar, Llama 3.2 11B Vision); grok-3-mini, DeepSeek, the Groq
-- and Together text models are text-only. The catalog had no vision model on Groq or Together: their Llama 4
-- Scout and Maverick (OpenAI-format image parts, data: or https URLs) are added with supports_vision = 1 at
-- the providers' list prices as recorded here — Groq Scout $0.11 / $0.34, Maverick $0.20 / $0.60; Together
-- Scout $0.18 / $0.59, Maverick (FP8) $0.27 / $0.85 per million input / output tokens (Groq Scout's $0.11
-- input checked; the others not re-read from the live pages in this change: treat them as estimates).
-- Scores are editorial.

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, input_usd_per_mtok,
                    neurons_per_mtok_input, quality_score, speed_score, score_source) VALUES
    ('workers-ai/@cf/baai/bge-small-en-v1.5', 'workers-ai', '@cf/baai/bge-small-en-v1.5', 'BGE small (en v1.5, 384 dims)',
     'embedding', 0.020, 1841, 5.5, 9.5, 'editorial'),
    ('workers-ai/@cf/baai/bge-base-en-v1.5', 'workers-ai', '@cf/baai/bge-base-en-v1.5', 'BGE base (en v1.5, 768 dims)',
     'embedding', 0.067, 6058, 6.5, 9.0, 'editorial'),
    ('workers-ai/@cf/baai/bge-large-en-v1.5', 'workers-ai', '@cf/baai/bge-large-en-v1.5', 'BGE large (en v1.5, 1024 dims)',
     'embedding', 0.204, 18582, 7.0, 8.0, 'editorial'),
    ('workers-ai/@cf/baai/bge-m3', 'workers-ai', '@cf/baai/bge-m3', 'BGE M3 (multilingual, 1024 dims)',
     'embedding', 0.012, 1075, 7.0, 8.5, 'editorial');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming,
                    tts_usd_per_mchar, neurons_per_unit, quality_score, speed_score, score_source) VALUES
    ('workers-ai/@cf/deepgram/aura-1', 'workers-ai', '@cf/deepgram/aura-1', 'Deepgram Aura 1', 'tts', 1,
     15.0, 1363.64, 7.0, 9.0, 'editorial'),
    ('workers-ai/@cf/deepgram/aura-2-en', 'workers-ai', '@cf/deepgram/aura-2-en', 'Deepgram Aura 2 (English)', 'tts', 1,
     30.0, 2727.27, 8.0, 9.0, 'editorial'),
    ('workers-ai/@cf/myshell-ai/melotts', 'workers-ai', '@cf/myshell-ai/melotts', 'MeloTTS', 'tts', 0,
     0.20, 18.63, 5.5, 8.0, 'editorial');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming,
                    input_usd_per_mtok, output_usd_per_mtok, tts_usd_per_mchar, quality_score, speed_score,
                    score_source) VALUES
    ('gemini/gemini-2.5-flash-preview-tts', 'gemini', 'gemini-2.5-flash-preview-tts', 'Gemini 2.5 Flash TTS (preview)',
     'tts', 0, 0.50, 10.0, 19.30, 8.5, 7.5, 'editorial'),
    ('gemini/gemini-2.5-pro-preview-tts', 'gemini', 'gemini-2.5-pro-preview-tts', 'Gemini 2.5 Pro TTS (preview)',
     'tts', 0, 1.00, 20.0, 38.65, 9.0, 6.5, 'editorial');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_vision, supports_tools,
                    supports_json, input_usd_per_mtok, output_usd_per_mtok,
                    neurons_per_mtok_input, neurons_per_mtok_output, quality_score, speed_score, score_source) VALUES
    ('workers-ai/@cf/meta/llama-4-scout-17b-16e-instruct', 'workers-ai', '@cf/meta/llama-4-scout-17b-16e-instruct',
     'Llama 4 Scout 17B 16E Instruct', 'chat', 1, 1, 1, 0.270, 0.850, 24545, 77273, 7.0, 8.0, 'editorial'),
    ('workers-ai/@cf/google/gemma-3-12b-it', 'workers-ai', '@cf/google/gemma-3-12b-it',
     'Gemma 3 12B IT', 'chat', 1, 0, 1, 0.345, 0.556, 31371, 50560, 6.5, 7.5, 'editorial'),
    ('workers-ai/@cf/mistralai/mistral-small-3.1-24b-instruct', 'workers-ai', '@cf/mistralai/mistral-small-3.1-24b-instruct',
     'Mistral Small 3.1 24B Instruct', 'chat', 1, 1, 1, 0.351, 0.555, 31876, 50488, 6.5, 7.5, 'editorial');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_vision, supports_tools,
                    supports_json, context_window, input_usd_per_mtok, output_usd_per_mtok, quality_score,
                    speed_score, score_source) VALUES
    ('groq/meta-llama/llama-4-scout-17b-16e-instruct', 'groq', 'meta-llama/llama-4-scout-17b-16e-instruct',
     'Llama 4 Scout 17B 16E (Groq)', 'chat', 1, 1, 1, 131072, 0.11, 0.34, 7.0, 9.5, 'editorial'),
    ('groq/meta-llama/llama-4-maverick-17b-128e-instruct', 'groq', 'meta-llama/llama-4-maverick-17b-128e-instruct',
     'Llama 4 Maverick 17B 128E (Groq)', 'chat', 1, 1, 1, 131072, 0.20, 0.60, 7.5, 9.0, 'editorial'),
    ('together/meta-llama/Llama-4-Scout-17B-16E-Instruct', 'together', 'meta-llama/Llama-4-Scout-17B-16E-Instruct',
     'Llama 4 Scout 17B 16E (Together)', 'chat', 1, 1, 1, NULL, 0.18, 0.59, 7.0, 8.0, 'editorial'),
    ('together/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8', 'together',
     'meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8', 'Llama 4 Maverick 17B 128E FP8 (Together)', 'chat', 1, 1, 1,
     NULL, 0.27, 0.85, 7.5, 7.5, 'editorial');

INSERT INTO model_price_history (model_id, price_version, prices, source)
SELECT id, price_version,
       json_object('input_usd_per_mtok', input_usd_per_mtok,
                   'output_usd_per_mtok', output_usd_per_mtok,
                   'tts_usd_per_mchar', tts_usd_per_mchar,
                   'neurons_per_mtok_input', neurons_per_mtok_input,
                   'neurons_per_mtok_output', neurons_per_mtok_output,
                   'neurons_per_unit', neurons_per_unit),
       'seed'
FROM models
WHERE id IN ('workers-ai/@cf/baai/bge-small-en-v1.5', 'workers-ai/@cf/baai/bge-base-en-v1.5',
             'workers-ai/@cf/baai/bge-large-en-v1.5', 'workers-ai/@cf/baai/bge-m3',
             'workers-ai/@cf/deepgram/aura-1', 'workers-ai/@cf/deepgram/aura-2-en',
             'workers-ai/@cf/myshell-ai/melotts',
             'gemini/gemini-2.5-flash-preview-tts', 'gemini/gemini-2.5-pro-preview-tts',
             'workers-ai/@cf/meta/llama-4-scout-17b-16e-instruct', 'workers-ai/@cf/google/gemma-3-12b-it',
             'workers-ai/@cf/mistralai/mistral-small-3.1-24b-instruct',
             'groq/meta-llama/llama-4-scout-17b-16e-instruct', 'groq/meta-llama/llama-4-maverick-17b-128e-instruct',
             'together/meta-llama/Llama-4-Scout-17B-16E-Instruct',
             'together/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8');
