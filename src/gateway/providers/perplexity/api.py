"""Perplexity's API: base URL as Perplexity documents it for the OpenAI SDK (no /v1)."""

DEFAULT_BASE_URL = "https://api.perplexity.ai"
