-- Speech-to-text models (modality 'stt'): only /v1/audio/transcriptions serves them, and it serves nothing else.
-- stt_usd_per_minute is USD per minute of audio; token-billed models also carry token prices, used when the
-- provider reports tokens (pipeline/cost.transcription_cost).
--
-- OpenAI (public pricing page): whisper-1 $0.006 per minute. gpt-4o-transcribe is token-priced ($6 per million
-- audio input tokens, $2.50 per million text input tokens, $10 per million output tokens), which OpenAI
-- estimates at $0.006 per minute; gpt-4o-mini-transcribe $3 / $1.25 / $5, estimated at $0.003 per minute. Their per-minute column
-- is that estimate (used only if an answer had no token usage); text prompt tokens are billed at the audio
-- input price here (OpenAI bills them lower), so their rows slightly over-estimate a prompt's cost.
-- Groq (console.groq.com/docs/speech-text, "Cost Per Hour"): whisper-large-v3 $0.111 per hour
-- ($0.00185 per minute), whisper-large-v3-turbo $0.04 per hour (~$0.000667 per minute). Groq bills at least
-- 10 seconds a request; that minimum is not applied here.
-- ElevenLabs (elevenlabs.io/docs/capabilities/speech-to-text, API price per hour by plan): Scribe v1 from
-- $0.40 per hour (Starter) down to $0.22 (Business); stored: the Starter rate, $0.40 per hour = $0.00667 per
-- minute (an upper estimate for larger plans).
-- Gemini (ai.google.dev pricing page, standard tier): 2.5 Flash audio input $1.00 per million tokens, output
-- $2.50 (checked); 2.5 Flash-Lite audio input $0.30, output $0.40 (not re-checked: an estimate). Audio is
-- 32 tokens a second (1,920 a minute), so the per-minute column ($0.00192 / $0.000576) is the audio input alone. Billed by the reported tokens. These ids
-- are 'gemini/<model>-transcribe' with upstream name 'models/<model>' (Gemini's resource name), because the
-- chat rows already hold the short upstream names and (provider_id, upstream_name) is unique.
-- Workers AI (developers.cloudflare.com/workers-ai/models/…, "Unit Pricing"): whisper-large-v3-turbo
-- $0.00051 per audio minute, whisper $0.00045 per audio minute; neurons per minute derived at
-- $0.011 per 1,000 neurons (46.36 and 40.91). The free 10,000 neurons a day are not netted out.
-- Scores are the project's editorial 0-10 ratings until measured ones arrive.

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming,
                    stt_usd_per_minute, input_usd_per_mtok, output_usd_per_mtok, neurons_per_unit,
                    quality_score, speed_score, score_source, enabled) VALUES
    ('openai/whisper-1',                   'openai',     'whisper-1',                       'Whisper',                        'stt', 0, 0.006,    NULL, NULL, NULL,  7.5, 7.0, 'editorial', 1),
    ('openai/gpt-4o-transcribe',           'openai',     'gpt-4o-transcribe',               'GPT-4o Transcribe',              'stt', 0, 0.006,    6.00, 10.00, NULL, 9.0, 7.0, 'editorial', 1),
    ('openai/gpt-4o-mini-transcribe',      'openai',     'gpt-4o-mini-transcribe',          'GPT-4o mini Transcribe',         'stt', 0, 0.003,    3.00, 5.00, NULL,  8.5, 8.0, 'editorial', 1),
    ('groq/whisper-large-v3',              'groq',       'whisper-large-v3',                'Whisper Large v3 (Groq)',        'stt', 0, 0.00185,  NULL, NULL, NULL,  8.0, 9.5, 'editorial', 1),
    ('groq/whisper-large-v3-turbo',        'groq',       'whisper-large-v3-turbo',          'Whisper Large v3 Turbo (Groq)',  'stt', 0, 0.000667, NULL, NULL, NULL,  7.5, 10.0, 'editorial', 1),
    ('elevenlabs/scribe_v1',               'elevenlabs', 'scribe_v1',                       'Scribe v1',                      'stt', 0, 0.00667,  NULL, NULL, NULL,  9.0, 7.0, 'editorial', 1),
    ('gemini/gemini-2.5-flash-transcribe', 'gemini',     'models/gemini-2.5-flash',         'Gemini 2.5 Flash (transcription)', 'stt', 0, 0.00192,  1.00, 2.50, NULL, 8.5, 7.5, 'editorial', 1),
    ('gemini/gemini-2.5-flash-lite-transcribe', 'gemini', 'models/gemini-2.5-flash-lite',   'Gemini 2.5 Flash-Lite (transcription)', 'stt', 0, 0.000576, 0.30, 0.40, NULL, 7.5, 8.5, 'editorial', 1),
    ('workers-ai/@cf/openai/whisper-large-v3-turbo', 'workers-ai', '@cf/openai/whisper-large-v3-turbo', 'Whisper Large v3 Turbo (Workers AI)', 'stt', 0, 0.00051, NULL, NULL, 46.36, 7.5, 8.5, 'editorial', 1),
    ('workers-ai/@cf/openai/whisper',      'workers-ai', '@cf/openai/whisper',              'Whisper (Workers AI)',           'stt', 0, 0.00045,  NULL, NULL, 40.91, 6.5, 8.0, 'editorial', 1);

INSERT INTO model_price_history (model_id, price_version, prices, source)
SELECT id, price_version,
       json_object('stt_usd_per_minute', stt_usd_per_minute,
                   'input_usd_per_mtok', input_usd_per_mtok,
                   'output_usd_per_mtok', output_usd_per_mtok,
                   'neurons_per_unit', neurons_per_unit),
       'seed'
FROM models
WHERE modality = 'stt';
