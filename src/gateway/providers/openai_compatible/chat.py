"""Chat on a custom server: the OpenAI format; usage in streams is requested (vLLM, Ollama and
LM Studio accept `stream_options.include_usage`)."""

from gateway.providers.openai_format.chat import OpenAIFormatChat

CHAT = OpenAIFormatChat()
