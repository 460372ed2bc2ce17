"""Groq's OpenAI-compatible API: base URL as Groq documents it for the OpenAI SDK."""

DEFAULT_BASE_URL = "https://api.groq.com/openai/v1"
