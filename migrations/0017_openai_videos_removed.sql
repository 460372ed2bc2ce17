-- OpenAI removed its Videos API (`/v1/videos`) and the sora-2 / sora-2-pro models on 2026-09-24
-- (deprecated 2026-03-24; OpenAI's deprecations page lists no replacement). The catalog rows are kept —
-- their prices stay for the usage rows billed at them — but disabled, so /v1/models no longer offers
-- them and routing never picks them. The OpenAI-format video adapter stays: it is the gateway's own
-- front door's format, and an OPENAI_BASE_URL that still serves the Videos API (a proxy, a compatible
-- server) can use it after `UPDATE models SET enabled = 1 WHERE id IN ('openai/sora-2', 'openai/sora-2-pro')`.
-- Video generation is served by Gemini Veo, xAI and Together AI (migrations 0011, 0013).

UPDATE models SET enabled = 0, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
WHERE provider_id = 'openai' AND modality = 'video';
