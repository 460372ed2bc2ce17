-- Video generation as asynchronous jobs (POST /v1/videos) and the video models of the catalog.
--
-- async_jobs (0001) gains what the OpenAI video object reports and what billing at completion needs:
-- the create call's request id (the job's usage row carries it), the caller's tier and key level at
-- creation, the requested duration and size, progress, completion and expiry times, and when the
-- provider was last asked (the scheduled poller takes the longest-unasked jobs first).
ALTER TABLE async_jobs ADD COLUMN request_id TEXT;
ALTER TABLE async_jobs ADD COLUMN tier_id TEXT;
ALTER TABLE async_jobs ADD COLUMN key_level TEXT;
ALTER TABLE async_jobs ADD COLUMN seconds INTEGER;
ALTER TABLE async_jobs ADD COLUMN size TEXT;
ALTER TABLE async_jobs ADD COLUMN progress INTEGER NOT NULL DEFAULT 0;
ALTER TABLE async_jobs ADD COLUMN completed_at TEXT;
ALTER TABLE async_jobs ADD COLUMN expires_at TEXT;
ALTER TABLE async_jobs ADD COLUMN polled_at TEXT;
-- The poller: unfinished jobs, longest-unasked first. The list endpoint: one user's jobs, newest first
-- (a key without a user lists by key_id, which idx_async_jobs_key already covers).
CREATE INDEX idx_async_jobs_status ON async_jobs(status, polled_at);
CREATE INDEX idx_async_jobs_user ON async_jobs(user_id, created_at);

-- Per-size prices where a model's rate depends on the output size (JSON {"1792x1024": 0.5}); a size not
-- listed is billed at video_usd_per_second.
ALTER TABLE models ADD COLUMN video_usd_by_size TEXT;

-- Video models (modality 'video'): only /v1/videos serves them. Billed per second of generated video
-- (video_usd_per_second), once, when the job completes.
--
-- OpenAI (API pricing page, Sora Video API): sora-2 $0.10 per second (720x1280, 1280x720);
-- sora-2-pro $0.30 per second at 720p (720x1280, 1280x720) and $0.50 per second at 1024p
-- (1024x1792, 1792x1024).
-- Google Gemini API (pricing page, Veo, paid tier; video with audio): Veo 3 (veo-3.0-generate-001)
-- $0.40 per second and Veo 3 Fast (veo-3.0-fast-generate-001) $0.15 per second — the rates after
-- Google's September 2025 cut (launch prices were $0.75 and $0.40); Veo 2 (veo-2.0-generate-001)
-- $0.35 per second. These three were checked against secondary sources quoting the pricing page
-- (the page itself was not reachable from here): treat them as estimates until compared again.
-- Scores are the project's editorial 0-10 ratings until measured ones arrive.

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming,
                    video_usd_per_second, video_usd_by_size, quality_score, speed_score, score_source, enabled) VALUES
    ('openai/sora-2',                    'openai', 'sora-2',                    'Sora 2',      'video', 0, 0.10, NULL, 8.0, 6.0, 'editorial', 1),
    ('openai/sora-2-pro',                'openai', 'sora-2-pro',                'Sora 2 Pro',  'video', 0, 0.30, '{"1024x1792": 0.50, "1792x1024": 0.50}', 9.0, 4.0, 'editorial', 1),
    ('gemini/veo-3.0-generate-001',      'gemini', 'veo-3.0-generate-001',      'Veo 3',       'video', 0, 0.40, NULL, 9.0, 5.0, 'editorial', 1),
    ('gemini/veo-3.0-fast-generate-001', 'gemini', 'veo-3.0-fast-generate-001', 'Veo 3 Fast',  'video', 0, 0.15, NULL, 8.0, 7.0, 'editorial', 1),
    ('gemini/veo-2.0-generate-001',      'gemini', 'veo-2.0-generate-001',      'Veo 2',       'video', 0, 0.35, NULL, 7.5, 6.0, 'editorial', 1);
