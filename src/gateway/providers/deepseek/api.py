"""DeepSeek's API: base URL as DeepSeek documents it for the OpenAI SDK (no /v1; `/v1` also works)."""

DEFAULT_BASE_URL = "https://api.deepseek.com"
