"""Together AI's API: base URL as Together documents it for the OpenAI SDK."""

DEFAULT_BASE_URL = "https://api.together.xyz/v1"
