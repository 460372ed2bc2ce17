"""Groq chat (console.groq.com/docs/openai): Groq answers 400 for `logprobs`, `top_logprobs`,
`logit_bias`, `messages[].name`, and `n` other than 1.

- `logprobs`, `top_logprobs`, `logit_bias`, `n` > 1: the gateway answers the 400 itself, naming the
  field — dropping them would hand back a different answer than the client asked for;
- `messages[].name`: dropped (a speaker hint; the conversation is the same without it);
- `metadata`: dropped — Groq answers 400 "`metadata` is not supported with this model" (`param`
  `metadata`, reported 2026-04 for gpt-oss-120b; "property 'metadata' is unsupported" before); the gateway
  has read it as the request's tags already (docs/cost.md);
- streams: the usage arrives in `x_groq.usage` on the last chunk; it is counted from there, and put
  in `usage` for a client that asked for `stream_options.include_usage`.
"""

from gateway.providers.openai_format.chat import OpenAIFormatChat

_NO_LOGPROBS = "Groq does not return log probabilities"

CHAT = OpenAIFormatChat(
    display_name="Groq",
    rejected_params={
        "logprobs": _NO_LOGPROBS,
        "top_logprobs": _NO_LOGPROBS,
        "logit_bias": "Groq does not accept token biases",
    },
    allowed_values={"n": (1,)},
    unsupported_params=frozenset({"metadata"}),
    dropped_message_fields=frozenset({"name"}),
    stream_usage_paths=(("x_groq", "usage"),),
)
