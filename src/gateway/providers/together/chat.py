"""Together AI chat: the OpenAI format. Streams end with the usage riding on the last chunk (the one
with the finish reason) rather than on a separate usage-only chunk: it is counted there, and stripped
from the chunk unless the client asked for `stream_options.include_usage`."""

from gateway.providers.openai_format.chat import OpenAIFormatChat

CHAT = OpenAIFormatChat(display_name="Together AI")
