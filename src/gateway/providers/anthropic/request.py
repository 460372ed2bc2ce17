"""OpenAI chat request → Anthropic Messages request: a pure function over plain dicts.

Mapping (from Anthropic's Messages API reference):
- `system` / `developer` messages → the top-level `system` (text blocks, in order, wherever they stood);
- `user` / `assistant` → messages; `tool` messages → `tool_result` blocks in a user message; consecutive
  messages of the same role are merged into one (Anthropic wants user and assistant to alternate);
- assistant `tool_calls` → `tool_use` blocks (arguments parsed from their JSON string);
- image parts: `data:` URLs → base64 sources, other URLs → url sources;
- `max_completion_tokens` / `max_tokens` → `max_tokens` (required there; DEFAULT_MAX_TOKENS otherwise);
- `temperature` is clamped into Anthropic's 0–1 (OpenAI allows up to 2); `top_p`, `top_k` as they are;
- `stop` → `stop_sequences`; `user` → `metadata.user_id`; `stream` → `stream`;
- `tools` → `{name, description, input_schema}`; `tool_choice` auto/none/required/{function} →
  auto/none/any/{tool}; `parallel_tool_calls: false` → `disable_parallel_tool_use`;
- `response_format` json_object / json_schema → an instruction appended to `system` (the schema is
  quoted in it); the answer still comes back as text content, as OpenAI's would.
Parameters Anthropic has no equivalent for (frequency/presence penalties, logit_bias, logprobs, seed,
stream_options, …) are dropped; `n` other than 1 is refused.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import InvalidRequestError

DEFAULT_MAX_TOKENS = 4096
_MAX_TEMPERATURE = 1.0
JSON_OBJECT_INSTRUCTION = "Respond with a single valid JSON object and nothing else: no prose, no code fences."
JSON_SCHEMA_INSTRUCTION = (
    "Respond with a single valid JSON value and nothing else (no prose, no code fences) "
    "that conforms to this JSON Schema{name}: {schema}"
)


def build_payload(body: dict[str, Any], upstream_model: str) -> dict[str, Any]:
    if body.get("n") not in (None, 1):
        raise InvalidRequestError("Anthropic models return one choice; 'n' must be 1.", param="n")
    system, messages = _convert_messages(body.get("messages") or [])
    instruction = _response_format_instruction(body.get("response_format"))
    if instruction:
        system.append({"type": "text", "text": instruction})
    payload: dict[str, Any] = {"model": upstream_model, "messages": messages}
    if system:
        plain = all(set(block) == {"type", "text"} for block in system)
        payload["system"] = "\n\n".join(b["text"] for b in system) if plain else system
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    payload["max_tokens"] = limit if isinstance(limit, int) and limit > 0 else DEFAULT_MAX_TOKENS
    temperature = body.get("temperature")
    if temperature is not None:
        payload["temperature"] = min(max(float(temperature), 0.0), _MAX_TEMPERATURE)
    for name in ("top_p", "top_k"):
        if body.get(name) is not None:
            payload[name] = body[name]
    stop = body.get("stop")
    if stop:
        payload["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if body.get("user"):
        payload["metadata"] = {"user_id": str(body["user"])}
    tools = body.get("tools")
    if tools:
        payload["tools"] = [_tool(tool) for tool in tools]
        choice = _tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            payload["tool_choice"] = choice
    if body.get("stream"):
        payload["stream"] = True
    return payload


# ---- messages -------------------------------------------------------------------------------------


def _convert_messages(messages: list[Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    system: list[dict[str, Any]] = []
    converted: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            raise InvalidRequestError("Each message must be an object.", param=f"messages[{index}]")
        role = message.get("role")
        if role in ("system", "developer"):
            system.extend(_text_blocks(message.get("content"), index))
            continue
        if role == "user":
            blocks = _user_blocks(message.get("content"), index)
        elif role == "assistant":
            blocks, role = _assistant_blocks(message, index), "assistant"
        elif role == "tool":
            blocks, role = [_tool_result(message, index)], "user"
        else:
            raise InvalidRequestError(
                f"Unsupported message role {role!r} for Anthropic.", param=f"messages[{index}].role"
            )
        if not blocks:
            continue
        if converted and converted[-1]["role"] == role:
            converted[-1]["content"].extend(blocks)  # Anthropic wants the roles to alternate
        else:
            converted.append({"role": role, "content": blocks})
    for message in converted:  # one plain text block reads better as a string, as Anthropic's own examples
        content = message["content"]
        if len(content) == 1 and set(content[0]) == {"type", "text"}:
            message["content"] = content[0]["text"]
    return system, converted


def _text_blocks(content: Any, index: int) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if content is None:
        return []
    if not isinstance(content, list):
        raise InvalidRequestError(
            "Message content must be a string or a list of parts.", param=f"messages[{index}].content"
        )
    blocks = []
    for part in content:
        if isinstance(part, dict) and part.get("type") in ("text", "refusal"):
            text = part.get("text") if part.get("type") == "text" else part.get("refusal")
            if text:
                blocks.append(_with_cache_control({"type": "text", "text": text}, part))
        else:
            raise InvalidRequestError("Only text parts are allowed here.", param=f"messages[{index}].content")
    return blocks


def _user_blocks(content: Any, index: int) -> list[dict[str, Any]]:
    if not isinstance(content, list):
        return _text_blocks(content, index)
    blocks = []
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append(_with_cache_control({"type": "text", "text": part["text"]}, part))
        elif kind == "image_url":
            blocks.append(_image(part, f"messages[{index}].content[{number}]"))
        else:
            raise InvalidRequestError(
                f"Content part type {kind!r} is not supported for Anthropic models (use text or image_url).",
                param=f"messages[{index}].content[{number}]",
            )
    return blocks


def _image(part: dict[str, Any], param: str) -> dict[str, Any]:
    image = part.get("image_url")
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str) or not url:
        raise InvalidRequestError("An image_url part needs a url.", param=param)
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        media_type, _, encoding = header.partition(";")
        if not sep or encoding != "base64" or not media_type:
            raise InvalidRequestError("A data: image URL must be 'data:<media type>;base64,<data>'.", param=param)
        source = {"type": "base64", "media_type": media_type, "data": data}
    else:
        source = {"type": "url", "url": url}
    return _with_cache_control({"type": "image", "source": source}, part)


def _assistant_blocks(message: dict[str, Any], index: int) -> list[dict[str, Any]]:
    blocks = _text_blocks(message.get("content"), index)
    for number, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not function.get("name"):
            raise InvalidRequestError(
                "A tool call needs function.name.", param=f"messages[{index}].tool_calls[{number}]"
            )
        arguments = function.get("arguments") or "{}"
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
        except ValueError:
            raise InvalidRequestError(
                "Tool call arguments must be a JSON object.", param=f"messages[{index}].tool_calls[{number}]"
            ) from None
        if not isinstance(parsed, dict):
            parsed = {"value": parsed}  # Anthropic's tool input is always an object
        blocks.append({"type": "tool_use", "id": call.get("id") or f"call_{index}_{number}",
                       "name": function["name"], "input": parsed})
    return blocks


def _tool_result(message: dict[str, Any], index: int) -> dict[str, Any]:
    call_id = message.get("tool_call_id")
    if not call_id:
        raise InvalidRequestError("A tool message needs tool_call_id.", param=f"messages[{index}].tool_call_id")
    content = message.get("content")
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": call_id}
    if isinstance(content, list):
        result["content"] = _text_blocks(content, index)
    else:
        result["content"] = "" if content is None else str(content)
    return result


def _with_cache_control(block: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    """Anthropic's prompt-caching marker, passed on when a client put it on an OpenAI part."""
    if isinstance(part.get("cache_control"), dict):
        block["cache_control"] = part["cache_control"]
    return block


# ---- tools and response format --------------------------------------------------------------------


def _tool(tool: Any) -> dict[str, Any]:
    function = tool.get("function") if isinstance(tool, dict) and tool.get("type") == "function" else None
    if not isinstance(function, dict) or not function.get("name"):
        raise InvalidRequestError("Only function tools with a name are supported for Anthropic.", param="tools")
    converted = {"name": function["name"]}
    if function.get("description"):
        converted["description"] = function["description"]
    converted["input_schema"] = function.get("parameters") or {"type": "object", "properties": {}}
    return converted


def _tool_choice(choice: Any, parallel: Any) -> dict[str, Any] | None:
    if choice is None:
        result: dict[str, Any] | None = {"type": "auto"} if parallel is False else None
    elif choice in ("auto", "none"):
        result = {"type": choice}
    elif choice == "required":
        result = {"type": "any"}
    elif isinstance(choice, dict) and isinstance(choice.get("function"), dict) and choice["function"].get("name"):
        result = {"type": "tool", "name": choice["function"]["name"]}
    else:
        raise InvalidRequestError("tool_choice must be auto, none, required or a function.", param="tool_choice")
    if result is not None and parallel is False and result["type"] != "none":
        result["disable_parallel_tool_use"] = True
    return result


def _response_format_instruction(response_format: Any) -> str | None:
    if not isinstance(response_format, dict):
        return None
    kind = response_format.get("type")
    if kind == "json_object":
        return JSON_OBJECT_INSTRUCTION
    if kind == "json_schema":
        spec = response_format.get("json_schema") or {}
        name = f" named {spec['name']!r}" if spec.get("name") else ""
        schema = json.dumps(spec.get("schema") or {}, separators=(",", ":"), sort_keys=True)
        return JSON_SCHEMA_INSTRUCTION.format(name=name, schema=schema)
    return None
