-- Embedding models of Gemini and Together AI (OpenAI's are in 0002). modality 'embedding': only
-- /v1/embeddings serves them, and /v1/embeddings serves nothing else. Billed per input token
-- (input_usd_per_mtok, USD per million tokens); there is no output price.
-- Gemini API standard (paid tier) prices; Together AI serverless list prices as last checked.
-- text-embedding-004 is Google's retired predecessor (shut down January 2026): kept, disabled.
-- Scores are the project's editorial 0-10 ratings until measured ones arrive.

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming, context_window,
                    input_usd_per_mtok, quality_score, speed_score, score_source, enabled) VALUES
    ('gemini/gemini-embedding-001',        'gemini', 'gemini-embedding-001',        'Gemini Embedding 001',         'embedding', 0, 2048, 0.15, 8.5, 8.0, 'editorial', 1),
    ('gemini/gemini-embedding-2-preview',  'gemini', 'gemini-embedding-2-preview',  'Gemini Embedding 2 (preview)', 'embedding', 0, 8192, 0.20, 8.5, 7.5, 'editorial', 1),
    ('gemini/text-embedding-004',          'gemini', 'text-embedding-004',          'Text Embedding 004 (retired)', 'embedding', 0, 2048, NULL, 7.0, 8.0, 'editorial', 0),

    ('together/BAAI/bge-large-en-v1.5',                         'together', 'BAAI/bge-large-en-v1.5',                         'BGE Large EN v1.5 (Together)',              'embedding', 0,   512, 0.016, 7.0, 8.5, 'editorial', 1),
    ('together/BAAI/bge-base-en-v1.5',                          'together', 'BAAI/bge-base-en-v1.5',                          'BGE Base EN v1.5 (Together)',               'embedding', 0,   512, 0.008, 6.5, 9.0, 'editorial', 1),
    ('together/togethercomputer/m2-bert-80M-32k-retrieval',     'together', 'togethercomputer/m2-bert-80M-32k-retrieval',     'M2-BERT 80M 32k Retrieval (Together)',      'embedding', 0, 32768, 0.008, 6.0, 9.0, 'editorial', 1),
    ('together/intfloat/multilingual-e5-large-instruct',        'together', 'intfloat/multilingual-e5-large-instruct',        'Multilingual E5 Large Instruct (Together)', 'embedding', 0,   514, 0.020, 7.0, 8.5, 'editorial', 1);
