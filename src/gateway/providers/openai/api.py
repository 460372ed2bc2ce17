"""OpenAI's API: base URL (with /v1, as the OpenAI SDK takes it); endpoints are relative to it."""

DEFAULT_BASE_URL = "https://api.openai.com/v1"
