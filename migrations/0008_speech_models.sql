-- Text-to-speech models (modality 'tts'): only /v1/audio/speech serves them, and it serves nothing else.
-- Billed per character of `input`: tts_usd_per_mchar is USD per million characters.
--
-- OpenAI (public pricing page): tts-1 $15 and tts-1-hd $30 per million characters. gpt-4o-mini-tts is
-- token-priced ($0.60 per million text input tokens, $12 per million audio output tokens), which OpenAI
-- itself sums up as about $0.015 per minute of audio. A minute of speech is about 150 words, ~1,000
-- characters, so the per-character equivalent stored here is $0.015 / 1,000 characters = $15 per
-- million characters (the same as tts-1); the usage row is then an estimate of the token bill.
--
-- ElevenLabs (API pricing page, per-character rate of the API): Multilingual v2 / v3 $0.10 per 1,000
-- characters ($100 per million), Flash / Turbo $0.05 per 1,000 characters ($50 per million).
-- Scores are the project's editorial 0-10 ratings until measured ones arrive.

INSERT INTO providers (id, adapter, kind, display_name) VALUES
    ('elevenlabs', 'elevenlabs', 'builtin', 'ElevenLabs');

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming,
                    tts_usd_per_mchar, quality_score, speed_score, score_source, enabled) VALUES
    ('openai/gpt-4o-mini-tts',            'openai',     'gpt-4o-mini-tts',        'GPT-4o mini TTS',              'tts', 1,  15.0, 8.0, 8.0, 'editorial', 1),
    ('openai/tts-1',                      'openai',     'tts-1',                  'TTS-1',                        'tts', 1,  15.0, 7.0, 9.0, 'editorial', 1),
    ('openai/tts-1-hd',                   'openai',     'tts-1-hd',               'TTS-1 HD',                     'tts', 1,  30.0, 8.0, 7.5, 'editorial', 1),
    ('elevenlabs/eleven_multilingual_v2', 'elevenlabs', 'eleven_multilingual_v2', 'Eleven Multilingual v2',       'tts', 1, 100.0, 9.0, 7.0, 'editorial', 1),
    ('elevenlabs/eleven_v3',              'elevenlabs', 'eleven_v3',              'Eleven v3',                    'tts', 1, 100.0, 9.5, 6.5, 'editorial', 1),
    ('elevenlabs/eleven_flash_v2_5',      'elevenlabs', 'eleven_flash_v2_5',      'Eleven Flash v2.5',            'tts', 1,  50.0, 8.0, 9.5, 'editorial', 1),
    ('elevenlabs/eleven_turbo_v2_5',      'elevenlabs', 'eleven_turbo_v2_5',      'Eleven Turbo v2.5',            'tts', 1,  50.0, 8.5, 9.0, 'editorial', 1);
