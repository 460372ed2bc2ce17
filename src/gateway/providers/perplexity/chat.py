"""Perplexity chat (Sonar): the OpenAI format, search-grounded.

- answers: `citations` (URLs) and `search_results` (title, url, date) at the top level of the answer
  and of stream chunks are passed through, so clients see them;
- Sonar has no function calling, one choice per request and no log probabilities: `tools`,
  `tool_choice`, `functions`, `function_call`, `logprobs`, `top_logprobs`, `logit_bias` and `n` other
  than 1 are answered with a 400 naming the field (dropping tools would make an agent believe the
  model chose not to call them);
- `seed`, `service_tier` and `parallel_tool_calls` (hints with no effect there) are dropped;
- streams: Perplexity sends usage on its last chunk by itself; `stream_options` is not sent.
"""

from gateway.providers.openai_format.chat import OpenAIFormatChat

_NO_TOOLS = "Sonar models do not call functions"
_NO_LOGPROBS = "Sonar models do not return log probabilities"

CHAT = OpenAIFormatChat(
    display_name="Perplexity",
    request_stream_usage=False,
    unsupported_params=frozenset({"seed", "service_tier", "parallel_tool_calls"}),
    rejected_params={
        "tools": _NO_TOOLS,
        "tool_choice": _NO_TOOLS,
        "functions": _NO_TOOLS,
        "function_call": _NO_TOOLS,
        "logprobs": _NO_LOGPROBS,
        "top_logprobs": _NO_LOGPROBS,
        "logit_bias": "Sonar models do not accept token biases",
    },
    allowed_values={"n": (1,)},
)
