"""xAI chat: the OpenAI format.

- `reasoning_effort` is passed on as the client sent it (grok-3-mini takes "low" / "high"; models that
  do not take it answer 400, which comes back to the client with xAI's message and `param`);
- grok-3-mini's thinking arrives in `message.reasoning_content` and `delta.reasoning_content` and is
  passed through;
- xAI counts reasoning tokens beside `completion_tokens`, not inside (`total_tokens` = prompt +
  completion + reasoning): `Usage.from_openai` recognises that and bills them as output.
"""

from gateway.providers.openai_format.chat import OpenAIFormatChat

CHAT = OpenAIFormatChat(display_name="xAI")
