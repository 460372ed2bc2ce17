"""DeepSeek chat: the OpenAI format with nothing to change on the way out.

On the way back, passed through as it comes: deepseek-reasoner's chain of thought in
`message.reasoning_content` and in stream deltas (`delta.reasoning_content`, before the content),
so clients see it; reasoning tokens come from `completion_tokens_details.reasoning_tokens` (part of
`completion_tokens`), cache hits from `prompt_cache_hit_tokens` (read by `Usage.from_openai`).
Parameters deepseek-reasoner ignores (temperature, top_p, penalties) are passed on unchanged: DeepSeek
accepts them; ones it rejects for that model (logprobs) come back as its 400, named.
"""

from gateway.providers.openai_format.chat import OpenAIFormatChat

CHAT = OpenAIFormatChat(display_name="DeepSeek")
