-- Video models of xAI and Together AI (modality 'video', served by /v1/videos), and what billing them needs.
--
-- A job's provider may say what it cost: Together answers `outputs.cost` (USD) with a completed job, xAI
-- `usage.cost_in_usd_ticks` (10^-10 USD). The job keeps that number, and its usage row bills it
-- (cost_status 'priced') instead of the catalog's price, which stays the fallback for an answer without one.
ALTER TABLE async_jobs ADD COLUMN cost_usd REAL;

-- Models priced per video rather than per second (Together lists its video models per generation). When
-- set, it is the price of one completed video whatever its seconds; video_usd_per_second is then NULL.
ALTER TABLE models ADD COLUMN video_usd_per_video REAL;

-- xAI grok-imagine-video: $0.05 per second at 480p, $0.07 per second at 720p. Sources: xAI's models page
-- as quoted by TanStack AI's issue #705 ("grok-imagine-video — text-to-video, $0.05/second") and the
-- xAI guides on apidog.com ("from $0.05 per second at 480p"); the 720p rate from Krea's pass-through price
-- table for Grok Imagine (480p $0.05/s, 720p $0.07/s), consistent with PixelByte's 1.4× 720p multiplier.
-- The 720p rate is therefore an estimate from secondary sources. xAI also reports each job's cost
-- (cost_in_usd_ticks), which is what a job is billed when given. The 720p sizes carry their rate in
-- video_usd_by_size (0011); the 480p sizes fall back to video_usd_per_second.
--
-- Together AI (model ids and durations from Together's video model table, docs.together.ai and its
-- official together-video skill): google/veo-3.0 (8 s), kwaivgI/kling-2.1-master (5 s),
-- minimax/hailuo-02 (10 s by default, or 6 s). No Together price list was reachable from here, so the
-- per-video prices below are ESTIMATES: Veo 3.0 $3.20 (8 s × Google's $0.40 per second, 0011);
-- Kling 2.1 Master $1.40 per 5-second video and Hailuo 02 $0.56 per 10-second 768p video (the makers'
-- list prices as resold by other hosts, not Together's own). Together reports every job's cost
-- (`outputs.cost`; its docs' example: $0.28 for a minimax/video-01-director video), and that reported
-- cost is what a Together job is billed; these numbers only price an answer that lacks it.
-- Scores are the project's editorial 0-10 ratings until measured ones arrive.

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming,
                    video_usd_per_second, video_usd_by_size, video_usd_per_video,
                    quality_score, speed_score, score_source, enabled) VALUES
    ('xai/grok-imagine-video', 'xai', 'grok-imagine-video', 'Grok Imagine Video', 'video', 0, 0.05,
     '{"1280x720": 0.07, "720x1280": 0.07, "720x720": 0.07, "960x720": 0.07, "720x960": 0.07, "1080x720": 0.07, "720x1080": 0.07}',
     NULL, 8.0, 8.0, 'editorial', 1),
    ('together/google/veo-3.0',           'together', 'google/veo-3.0',           'Veo 3.0 (Together)',           'video', 0, NULL, NULL, 3.20, 9.0, 5.0, 'editorial', 1),
    ('together/kwaivgI/kling-2.1-master', 'together', 'kwaivgI/kling-2.1-master', 'Kling 2.1 Master (Together)', 'video', 0, NULL, NULL, 1.40, 8.5, 5.0, 'editorial', 1),
    ('together/minimax/hailuo-02',        'together', 'minimax/hailuo-02',        'Hailuo 02 (Together)',         'video', 0, NULL, NULL, 0.56, 8.0, 6.0, 'editorial', 1);
