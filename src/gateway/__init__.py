"""The AI gateway: one OpenAI-compatible front door for every AI provider."""
