"""OpenAI chat request → Workers AI text-generation inputs (the same JSON for the REST API and `AI.run`).

- `messages`: roles `system`/`developer` → `system`, `user`, `assistant` (its `tool_calls` kept in the
  OpenAI form), `tool` (`tool_call_id` and the result text). Text-only content parts are joined into one
  string; a message with image parts keeps its parts (`text` and `image_url` with a `data:` URL, `detail`
  dropped), the form every Workers AI vision model's input schema takes (`@cf/meta/llama-3.2-11b-vision-instruct`,
  `@cf/meta/llama-4-scout-17b-16e-instruct`, `@cf/google/gemma-3-12b-it`,
  `@cf/mistralai/mistral-small-3.1-24b-instruct`: "image uri with data (e.g. data:image/jpeg;base64,…). HTTP
  URL will not be accepted"). Llama 3.2 Vision's older top-level `image` (bytes as an integer array) is not
  used: its schema takes the parts too. An `https://` image is a 400 naming the part: the models do not
  fetch URLs, and the gateway does no I/O in a transform.
- `max_completion_tokens` / `max_tokens` → `max_tokens` (Workers AI's own default is 256 when none is given);
  `temperature`, `top_p`, `top_k`, `seed`, `frequency_penalty`, `presence_penalty`, `stream`, `tools`,
  `response_format` (`json_object` / `json_schema`) pass as they are.
- `n` > 1, `logprobs`, `top_logprobs`: 400 naming the field. Everything else (`stop`, `user`,
  `tool_choice`, `stream_options`, `logit_bias`, …) has no Workers AI equivalent and is dropped.
"""

from __future__ import annotations

from typing import Any

from gateway.errors import InvalidRequestError

_PASSED = ("temperature", "top_p", "top_k", "seed", "frequency_penalty", "presence_penalty", "tools",
           "response_format")
_ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}


def _unsupported(name: str, why: str) -> InvalidRequestError:
    return InvalidRequestError(f"'{name}' is not supported by Workers AI: {why}", param=name,
                               code="unsupported_parameter")


def build_inputs(body: dict[str, Any]) -> dict[str, Any]:
    if body.get("n") not in (None, 1):
        raise _unsupported("n", "it answers one choice")
    for name in ("logprobs", "top_logprobs"):
        if body.get(name):
            raise _unsupported(name, "it reports no log probabilities")
    inputs: dict[str, Any] = {"messages": [_message(m, i) for i, m in enumerate(body.get("messages") or ())]}
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None:
        inputs["max_tokens"] = limit
    for name in _PASSED:
        if body.get(name) is not None:
            inputs[name] = body[name]
    if body.get("stream"):
        inputs["stream"] = True
    return inputs


def _message(message: Any, index: int) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise InvalidRequestError("Each message must be an object.", param=f"messages[{index}]")
    role = _ROLES.get(message.get("role"))
    if role is None:
        raise InvalidRequestError(f"Unsupported role {message.get('role')!r}.", param=f"messages[{index}].role")
    out: dict[str, Any] = {"role": role, "content": _content(message.get("content"), index)}
    if role == "assistant" and message.get("tool_calls"):
        out["tool_calls"] = message["tool_calls"]
    if role == "tool" and message.get("tool_call_id"):
        out["tool_call_id"] = message["tool_call_id"]
    return out


def _content(content: Any, index: int) -> Any:
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        raise InvalidRequestError("Message content must be a string or a list of parts.",
                                  param=f"messages[{index}].content")
    if not any(isinstance(p, dict) and p.get("type") == "image_url" for p in content):
        return "\n".join(p.get("text") or "" for p in content if isinstance(p, dict) and p.get("type") == "text")
    parts = []
    for position, part in enumerate(content):
        param = f"messages[{index}].content[{position}]"
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append({"type": "text", "text": part.get("text") or ""})
        elif kind == "image_url":
            url = (part.get("image_url") or {}).get("url") if isinstance(part.get("image_url"), dict) else None
            if not isinstance(url, str) or not url.startswith("data:"):
                raise InvalidRequestError(
                    "Workers AI takes images as data: URLs (base64) only; it cannot fetch an image URL.",
                    param=param + ".image_url", code="unsupported_parameter")
            parts.append({"type": "image_url", "image_url": {"url": url}})
        else:
            raise InvalidRequestError(f"Content part type {kind!r} is not supported for Workers AI models "
                                      "(use text or image_url).", param=param)
    return parts
