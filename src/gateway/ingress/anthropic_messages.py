"""Anthropic Messages API ⇄ OpenAI chat: the inverse of `providers/anthropic/`, for `POST /v1/messages`.

Pure functions over plain dicts (no pydantic, no I/O), so they run in Pyodide too.

Request (Anthropic → OpenAI), following Anthropic's Messages API reference:
- required `model`, `max_tokens` (integer ≥ 1), `messages` (non-empty); a 400 names the field;
- `system` (string or text blocks) → one leading `system` message (blocks joined by a blank line;
  kept as text parts when one carries `cache_control`);
- user text blocks → text parts; `image` blocks: base64 source → `data:` URL, url source → `image_url`;
- user `tool_result` blocks → `tool` messages (placed first, as OpenAI wants them right after the
  assistant's tool calls); their content string, or text blocks joined; `is_error` prefixes
  "Error: "; images inside a tool result go into the user message that follows;
- assistant text → `content`; `tool_use` → `tool_calls` (input as a JSON string); `thinking` and
  `redacted_thinking` blocks are dropped (no OpenAI equivalent);
- `max_tokens` → `max_tokens`; `stop_sequences` → `stop`; `temperature`, `top_p` as they are;
  `top_k` and `thinking` are dropped (no OpenAI equivalent); `metadata.user_id` → `user`;
- `tools` `{name, description, input_schema}` → function tools (server tools such as web search are
  refused: nothing behind the gateway runs them); `tool_choice` auto/any/tool/none →
  "auto"/"required"/{function}/"none"; `disable_parallel_tool_use` → `parallel_tool_calls: false`;
- `output_config.format` `{type: json_schema, schema}` → `response_format` json_schema (named
  "output"); `output_config.effort` and other Anthropic-only fields (`service_tier`, `container`,
  `cache_control` at the top level, …) are dropped;
- `stream: true` → `stream` with `stream_options.include_usage` (message_delta needs real counts).

The answer, the stream and errors go back through `anthropic_replies.py` (re-exported here).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import InvalidRequestError
from gateway.ingress.anthropic_replies import (  # noqa: F401  (one import for callers)
    STATUS_ERROR_TYPES,
    StreamConverter,
    encode_event,
    error_body,
    error_type_for_status,
    stop_reason,
    stream_error_body,
    to_anthropic_message,
    tool_input,
    usage_from_openai,
)

_SERVER_TOOL_HINT = "only client tools ({name, description, input_schema}) can be used through the gateway"


# ---- request: Anthropic → OpenAI ------------------------------------------------------------------


def _invalid(message: str, param: str) -> InvalidRequestError:
    return InvalidRequestError(f"{param}: {message}", param=param)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def to_openai_request(body: dict[str, Any]) -> dict[str, Any]:
    """Validate an Anthropic Messages request and translate it; InvalidRequestError names the field."""
    model = body.get("model")
    if model is None:
        raise _invalid("Field required", "model")
    if not isinstance(model, str) or not model.strip():
        raise _invalid("Input should be a non-empty string", "model")
    max_tokens = body.get("max_tokens")
    if max_tokens is None:
        raise _invalid("Field required", "max_tokens")
    if not _is_int(max_tokens) or max_tokens < 1:
        raise _invalid("Input should be an integer greater than or equal to 1", "max_tokens")
    messages = body.get("messages")
    if messages is None:
        raise _invalid("Field required", "messages")
    if not isinstance(messages, list) or not messages:
        raise _invalid("Input should be a non-empty list of messages", "messages")

    converted: list[dict[str, Any]] = []
    system = _system_message(body.get("system"))
    if system is not None:
        converted.append(system)
    for index, message in enumerate(messages):
        converted.extend(_message(message, index))
    result: dict[str, Any] = {"model": model, "messages": converted, "max_tokens": max_tokens}

    for name in ("temperature", "top_p"):
        value = body.get(name)
        if value is not None:
            if not _is_number(value) or not 0 <= value <= 1:
                raise _invalid("Input should be a number between 0 and 1", name)
            result[name] = value
    stop = body.get("stop_sequences")
    if stop is not None:
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            raise _invalid("Input should be a list of strings", "stop_sequences")
        if stop:
            result["stop"] = stop
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            raise _invalid("Input should be an object", "metadata")
        if metadata.get("user_id"):
            result["user"] = str(metadata["user_id"])
    tools = body.get("tools")
    if tools is not None:
        if not isinstance(tools, list):
            raise _invalid("Input should be a list of tools", "tools")
        if tools:
            result["tools"] = [_tool(tool, f"tools[{i}]") for i, tool in enumerate(tools)]
    choice = body.get("tool_choice")
    if choice is not None:
        _apply_tool_choice(choice, result)
    output_format = _output_format(body.get("output_config"))
    if output_format is not None:
        result["response_format"] = output_format
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _invalid("Input should be a valid boolean", "stream")
    if stream:
        result["stream"] = True
        result["stream_options"] = {"include_usage": True}
    return result


def _output_format(config: Any) -> dict[str, Any] | None:
    """`output_config.format` (structured outputs: `{type: json_schema, schema}`) → `response_format`."""
    if config is None:
        return None
    if not isinstance(config, dict):
        raise _invalid("Input should be an object", "output_config")
    output_format = config.get("format")
    if output_format is None:
        return None
    if not isinstance(output_format, dict) or output_format.get("type") != "json_schema":
        raise _invalid("Input should be {type: json_schema, schema}", "output_config.format")
    if not isinstance(output_format.get("schema"), dict):
        raise _invalid("Field required (a JSON Schema object)", "output_config.format.schema")
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": output_format["schema"]}}


def _system_message(system: Any) -> dict[str, Any] | None:
    if system is None:
        return None
    if isinstance(system, str):
        return {"role": "system", "content": system} if system else None
    if not isinstance(system, list):
        raise _invalid("Input should be a string or a list of text blocks", "system")
    parts = []
    for index, block in enumerate(system):
        if not isinstance(block, dict) or block.get("type") != "text" or not isinstance(block.get("text"), str):
            raise _invalid("Input should be a text block", f"system[{index}]")
        parts.append(_text_part(block))
    if not parts:
        return None
    if any("cache_control" in part for part in parts):
        return {"role": "system", "content": parts}
    return {"role": "system", "content": "\n\n".join(part["text"] for part in parts)}


def _text_part(block: dict[str, Any]) -> dict[str, Any]:
    part: dict[str, Any] = {"type": "text", "text": block["text"]}
    if isinstance(block.get("cache_control"), dict):
        part["cache_control"] = block["cache_control"]  # Anthropic upstreams honour it
    return part


def _blocks(content: Any, param: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise _invalid("Input should be a string or a list of content blocks", param)
    for number, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise _invalid("Input should be a content block with a type", f"{param}[{number}]")
    return content


def _message(message: Any, index: int) -> list[dict[str, Any]]:
    param = f"messages[{index}]"
    if not isinstance(message, dict):
        raise _invalid("Input should be an object", param)
    role = message.get("role")
    if role not in ("user", "assistant"):
        raise _invalid("Input should be 'user' or 'assistant'", f"{param}.role")
    if "content" not in message:
        raise _invalid("Field required", f"{param}.content")
    content = message["content"]
    if role == "user" and isinstance(content, str):
        return [{"role": "user", "content": content}]
    blocks = _blocks(content, f"{param}.content")
    return _user(blocks, f"{param}.content") if role == "user" else [_assistant(blocks, f"{param}.content")]


def _user(blocks: list[dict[str, Any]], param: str) -> list[dict[str, Any]]:
    tool_messages: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for number, block in enumerate(blocks):
        where = f"{param}[{number}]"
        kind = block["type"]
        if kind == "text":
            parts.append(_checked_text(block, where))
        elif kind == "image":
            parts.append(_image_part(block, where))
        elif kind == "tool_result":
            message, images = _tool_result(block, where)
            tool_messages.append(message)
            parts.extend(images)
        else:
            raise _invalid(f"Content block type {kind!r} is not supported here (use text, image or tool_result)", where)
    result = list(tool_messages)
    if parts:
        plain = all(set(part) == {"type", "text"} for part in parts)
        content: Any = "".join(part["text"] for part in parts) if plain and len(parts) == 1 else parts
        result.append({"role": "user", "content": content})
    return result


def _checked_text(block: dict[str, Any], where: str) -> dict[str, Any]:
    if not isinstance(block.get("text"), str):
        raise _invalid("A text block needs a string 'text'", f"{where}.text")
    return _text_part(block)


def _image_part(block: dict[str, Any], where: str) -> dict[str, Any]:
    source = block.get("source")
    if not isinstance(source, dict):
        raise _invalid("An image block needs a source", f"{where}.source")
    kind = source.get("type")
    if kind == "base64":
        media_type, data = source.get("media_type"), source.get("data")
        if not isinstance(media_type, str) or not media_type or not isinstance(data, str) or not data:
            raise _invalid("A base64 image source needs media_type and data", f"{where}.source")
        url = f"data:{media_type};base64,{data}"
    elif kind == "url":
        url = source.get("url")
        if not isinstance(url, str) or not url:
            raise _invalid("A url image source needs a url", f"{where}.source.url")
    else:
        raise _invalid("Image sources can be 'base64' or 'url'", f"{where}.source.type")
    return {"type": "image_url", "image_url": {"url": url}}


def _tool_result(block: dict[str, Any], where: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    call_id = block.get("tool_use_id")
    if not isinstance(call_id, str) or not call_id:
        raise _invalid("A tool_result block needs tool_use_id", f"{where}.tool_use_id")
    content = block.get("content")
    images: list[dict[str, Any]] = []
    if content is None:
        text = ""
    elif isinstance(content, str):
        text = content
    elif isinstance(content, list):
        texts = []
        for number, inner in enumerate(content):
            inner_where = f"{where}.content[{number}]"
            kind = inner.get("type") if isinstance(inner, dict) else None
            if kind == "text":
                texts.append(_checked_text(inner, inner_where)["text"])
            elif kind == "image":
                images.append(_image_part(inner, inner_where))
            else:
                raise _invalid("Tool results can hold text and image blocks", inner_where)
        text = "\n".join(texts)
    else:
        raise _invalid("Input should be a string or a list of blocks", f"{where}.content")
    if block.get("is_error"):
        text = f"Error: {text}" if text else "Error"
    return {"role": "tool", "tool_call_id": call_id, "content": text}, images


def _assistant(blocks: list[dict[str, Any]], param: str) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for number, block in enumerate(blocks):
        where = f"{param}[{number}]"
        kind = block["type"]
        if kind == "text":
            texts.append(_checked_text(block, where)["text"])
        elif kind == "tool_use":
            call_id, name, arguments = block.get("id"), block.get("name"), block.get("input", {})
            if not isinstance(call_id, str) or not call_id:
                raise _invalid("A tool_use block needs an id", f"{where}.id")
            if not isinstance(name, str) or not name:
                raise _invalid("A tool_use block needs a name", f"{where}.name")
            calls.append({"id": call_id, "type": "function",
                          "function": {"name": name, "arguments": json.dumps(arguments)}})
        elif kind in ("thinking", "redacted_thinking"):
            continue  # the OpenAI format has no place for them
        else:
            raise _invalid(f"Content block type {kind!r} is not supported here (use text or tool_use)", where)
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
    if calls:
        message["tool_calls"] = calls
    return message


def _tool(tool: Any, where: str) -> dict[str, Any]:
    if not isinstance(tool, dict):
        raise _invalid("Input should be a tool object", where)
    if tool.get("type") not in (None, "custom"):
        raise _invalid(f"Tool type {tool.get('type')!r} is not supported: {_SERVER_TOOL_HINT}", f"{where}.type")
    name = tool.get("name")
    if not isinstance(name, str) or not name:
        raise _invalid("Field required", f"{where}.name")
    schema = tool.get("input_schema")
    if not isinstance(schema, dict):
        raise _invalid("Field required (a JSON Schema object)", f"{where}.input_schema")
    function: dict[str, Any] = {"name": name, "parameters": schema}
    if isinstance(tool.get("description"), str) and tool["description"]:
        function["description"] = tool["description"]
    return {"type": "function", "function": function}


def _apply_tool_choice(choice: Any, result: dict[str, Any]) -> None:
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "auto":
        value: Any = "auto"
    elif kind == "any":
        value = "required"
    elif kind == "none":
        value = "none"
    elif kind == "tool":
        if not isinstance(choice.get("name"), str) or not choice["name"]:
            raise _invalid("Field required", "tool_choice.name")
        value = {"type": "function", "function": {"name": choice["name"]}}
    else:
        raise _invalid("Input should be {type: auto | any | tool | none}", "tool_choice")
    if "tools" not in result:
        return  # without tools a tool choice means nothing to an OpenAI-format upstream
    result["tool_choice"] = value
    if choice.get("disable_parallel_tool_use") is True and kind != "none":
        result["parallel_tool_calls"] = False
