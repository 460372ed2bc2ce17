"""xAI's API: base URL as xAI documents it for the OpenAI SDK."""

DEFAULT_BASE_URL = "https://api.x.ai/v1"
