-- Image-generation models (modality 'image'): only /v1/images/generations serves them, and it serves nothing else.
-- image_usd is a JSON object of USD per image, keyed '<width>x<height>/<quality>'; either part may be '*'
-- (any). The gateway tries '<size>/<quality>', '<size>/*', '*/<quality>', '*' in that order
-- (pipeline/cost.image_cost); a size or quality with no key is billed 'unpriced', never guessed.
--
-- OpenAI (public pricing page, "Image generation", per image):
--   dall-e-2: 256x256 $0.016, 512x512 $0.018, 1024x1024 $0.020 (one quality: standard).
--   dall-e-3: standard 1024x1024 $0.040, 1024x1792 / 1792x1024 $0.080; hd $0.080 / $0.120.
--   gpt-image-1: low 1024x1024 $0.011, 1024x1536 / 1536x1024 $0.016; medium $0.042 / $0.063;
--     high $0.167 / $0.25. gpt-image-1-mini: low $0.005 / $0.006; medium $0.011 / $0.015; high $0.036 / $0.052.
--     Both are token-priced underneath (image output tokens; gpt-image-1 $40 per million); these are
--     OpenAI's own per-image figures for the output, so a row is an estimate that leaves out the prompt's
--     text tokens. quality 'auto' has no price: the answer's `quality` (what auto chose) prices it.
-- Google Imagen 4 through the Gemini API (Gemini API pricing page, per image, any aspect ratio):
--   imagen-4.0-generate-001 $0.04, imagen-4.0-fast-generate-001 $0.02, imagen-4.0-ultra-generate-001 $0.06.
-- Together AI (pricing page, image models, per megapixel): FLUX.1 [schnell] $0.0027/MP, FLUX1.1 [pro] $0.04/MP.
--   Stored per image at each size the gateway can ask for, taking a megapixel as 1024x1024 pixels (so that
--   the default 1024x1024 image costs the per-megapixel price, as Together's per-image examples show):
--   an estimate; other sizes are unpriced. Together's steps do not change its price.
-- xAI (docs.x.ai image generation: flat per-image pricing, no size/quality/style): grok-imagine-image
--   $0.02 per image (its current image model); grok-2-image, the earlier model, $0.07 per image.
-- Imagen 4 prices checked against a quote of the Gemini API pricing page (Nov 2026 search); Google marks
--   the Imagen 4 ids deprecated in favour of Gemini image models, so expect to retire these rows.
-- Cloudflare Workers AI (model pages, "Unit Pricing"):
--   @cf/black-forest-labs/flux-1-schnell: $0.000053 per 512x512 tile and $0.00011 per step. It makes
--   1024x1024 images (4 tiles = $0.000212); the gateway sends 4 steps for quality 'standard' ($0.00044) and 8
--   for 'hd' ($0.00088): $0.000652 and $0.001092 per image. The daily free neurons are not netted out.
--   @cf/stabilityai/stable-diffusion-xl-base-1.0 (beta): $0.00 per step, so $0 per image.
-- Scores are the project's editorial 0-10 ratings until measured ones arrive.

INSERT INTO models (id, provider_id, upstream_name, display_name, modality, supports_streaming,
                    image_usd, quality_score, speed_score, score_source, enabled) VALUES
    ('openai/dall-e-2', 'openai', 'dall-e-2', 'DALL·E 2', 'image', 0,
     '{"256x256/standard": 0.016, "512x512/standard": 0.018, "1024x1024/standard": 0.02}', 5.0, 8.0, 'editorial', 1),
    ('openai/dall-e-3', 'openai', 'dall-e-3', 'DALL·E 3', 'image', 0,
     '{"1024x1024/standard": 0.04, "1024x1792/standard": 0.08, "1792x1024/standard": 0.08, "1024x1024/hd": 0.08, "1024x1792/hd": 0.12, "1792x1024/hd": 0.12}',
     7.5, 6.0, 'editorial', 1),
    ('openai/gpt-image-1', 'openai', 'gpt-image-1', 'GPT Image 1', 'image', 0,
     '{"1024x1024/low": 0.011, "1024x1536/low": 0.016, "1536x1024/low": 0.016, "1024x1024/medium": 0.042, "1024x1536/medium": 0.063, "1536x1024/medium": 0.063, "1024x1024/high": 0.167, "1024x1536/high": 0.25, "1536x1024/high": 0.25}',
     9.0, 4.0, 'editorial', 1),
    ('openai/gpt-image-1-mini', 'openai', 'gpt-image-1-mini', 'GPT Image 1 mini', 'image', 0,
     '{"1024x1024/low": 0.005, "1024x1536/low": 0.006, "1536x1024/low": 0.006, "1024x1024/medium": 0.011, "1024x1536/medium": 0.015, "1536x1024/medium": 0.015, "1024x1024/high": 0.036, "1024x1536/high": 0.052, "1536x1024/high": 0.052}',
     8.0, 5.5, 'editorial', 1),
    ('gemini/imagen-4.0-generate-001', 'gemini', 'imagen-4.0-generate-001', 'Imagen 4', 'image', 0,
     '{"*": 0.04}', 8.5, 6.0, 'editorial', 1),
    ('gemini/imagen-4.0-fast-generate-001', 'gemini', 'imagen-4.0-fast-generate-001', 'Imagen 4 Fast', 'image', 0,
     '{"*": 0.02}', 7.5, 8.0, 'editorial', 1),
    ('gemini/imagen-4.0-ultra-generate-001', 'gemini', 'imagen-4.0-ultra-generate-001', 'Imagen 4 Ultra', 'image', 0,
     '{"*": 0.06}', 9.0, 5.0, 'editorial', 1),
    ('together/black-forest-labs/FLUX.1-schnell', 'together', 'black-forest-labs/FLUX.1-schnell', 'FLUX.1 [schnell]', 'image', 0,
     '{"256x256/*": 0.00016875, "512x512/*": 0.000675, "1024x768/*": 0.002025, "768x1024/*": 0.002025, "1024x1024/*": 0.0027, "1536x1024/*": 0.00405, "1024x1536/*": 0.00405, "1792x1024/*": 0.004725, "1024x1792/*": 0.004725}',
     7.0, 9.5, 'editorial', 1),
    ('together/black-forest-labs/FLUX.1.1-pro', 'together', 'black-forest-labs/FLUX.1.1-pro', 'FLUX1.1 [pro]', 'image', 0,
     '{"256x256/*": 0.0025, "512x512/*": 0.01, "1024x768/*": 0.03, "768x1024/*": 0.03, "1024x1024/*": 0.04, "1536x1024/*": 0.06, "1024x1536/*": 0.06, "1792x1024/*": 0.07, "1024x1792/*": 0.07}',
     8.5, 7.0, 'editorial', 1),
    ('xai/grok-2-image', 'xai', 'grok-2-image', 'Grok 2 Image', 'image', 0,
     '{"*": 0.07}', 7.5, 7.0, 'editorial', 1),
    ('xai/grok-imagine-image', 'xai', 'grok-imagine-image', 'Grok Imagine Image', 'image', 0,
     '{"*": 0.02}', 8.0, 7.5, 'editorial', 1),
    ('workers-ai/@cf/black-forest-labs/flux-1-schnell', 'workers-ai', '@cf/black-forest-labs/flux-1-schnell', 'FLUX.1 [schnell] (Workers AI)', 'image', 0,
     '{"1024x1024/standard": 0.000652, "1024x1024/hd": 0.001092}', 7.0, 8.5, 'editorial', 1),
    ('workers-ai/@cf/stabilityai/stable-diffusion-xl-base-1.0', 'workers-ai', '@cf/stabilityai/stable-diffusion-xl-base-1.0', 'Stable Diffusion XL base 1.0 (Workers AI)', 'image', 0,
     '{"*": 0.0}', 5.5, 6.0, 'editorial', 1);
