"""OpenAI chat completions: the OpenAI format itself."""

from gateway.providers.openai_format.chat import OpenAIFormatChat

CHAT = OpenAIFormatChat()
