"""OpenAI chat request body → Gemini `GenerateContentRequest` body (pure; no I/O).

- system and developer messages → `systemInstruction` (all of them, in order, wherever they appear);
  user → role "user", assistant → role "model"; adjacent turns of one role are merged (Gemini wants the
  function responses answering one model turn in a single content).
- assistant `tool_calls` → `functionCall` parts (arguments parsed from their JSON string), with the
  `thoughtSignature` Gemini 3 requires back when the call id carries one (`<id>__thought__<sig>`, as the
  answer transform writes it); tool messages →
  `functionResponse` parts named after the matching tool call id; a JSON-object result is sent as the
  response, anything else as `{"result": ...}`.
- image parts: `data:` URLs → `inlineData {mimeType, data}`; other URLs → `fileData {fileUri, mimeType}`,
  the mime type guessed from the extension, `image/jpeg` when unknown. `input_audio` → `inlineData`.
- tool parameter and response schemas are cut down to Gemini's Schema subset (`_SCHEMA_KEYS`): keys such as
  `additionalProperties`, `$schema`, `$defs`, `$ref`, `strict`, `examples`, `patternProperties` are dropped,
  `const` becomes a one-value `enum`, `"type": ["string", "null"]` becomes `"type": "string", "nullable": true`.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.errors import InvalidRequestError

_SCHEMA_KEYS = frozenset({
    "type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties",
    "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf",
    "propertyOrdering", "default", "items", "minimum", "maximum",
})
_IMAGE_MIME = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "webp": "image/webp",
               "gif": "image/gif", "heic": "image/heic", "heif": "image/heif", "pdf": "application/pdf"}
DEFAULT_IMAGE_MIME = "image/jpeg"
_TOOL_MODES = {"none": "NONE", "auto": "AUTO", "required": "ANY"}
THOUGHT_SIGNATURE_SEPARATOR = "__thought__"


def clean_schema(schema: Any) -> Any:
    """A JSON schema reduced to the OpenAPI subset Gemini's `Schema` accepts."""
    if isinstance(schema, list):
        return [clean_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    result: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "const" and "enum" not in schema:
            result["enum"] = [value]
        elif key == "type" and isinstance(value, list):
            kinds = [k for k in value if k != "null"]
            result["type"] = kinds[0] if kinds else "null"
            if "null" in value:
                result["nullable"] = True
        elif key == "properties" and isinstance(value, dict):
            result["properties"] = {name: clean_schema(sub) for name, sub in value.items()}
        elif key in ("items", "anyOf"):
            result[key] = clean_schema(value)
        elif key in _SCHEMA_KEYS:
            result[key] = value
    if result.get("type") == "string" and "enum" in result:
        result["enum"] = [str(v) for v in result["enum"]]
    return result


def _image_part(url: str) -> dict[str, Any]:
    if url.startswith("data:"):
        header, sep, data = url[5:].partition(",")
        if not sep or ";base64" not in header:
            raise InvalidRequestError("image data URLs must be base64: data:<mime>;base64,<data>", param="messages")
        return {"inlineData": {"mimeType": header.split(";")[0] or DEFAULT_IMAGE_MIME, "data": data}}
    extension = url.split("?")[0].rsplit(".", 1)[-1].lower()
    return {"fileData": {"mimeType": _IMAGE_MIME.get(extension, DEFAULT_IMAGE_MIME), "fileUri": url}}


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            parts.append({"text": part.get("text") or ""})
        elif kind == "image_url":
            image = part.get("image_url")
            parts.append(_image_part(image.get("url", "") if isinstance(image, dict) else str(image or "")))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            parts.append({"inlineData": {"mimeType": f"audio/{audio.get('format') or 'wav'}", "data": audio.get("data")}})
        elif kind == "refusal":
            parts.append({"text": part.get("refusal") or ""})
        else:
            raise InvalidRequestError(f"content part type '{kind}' is not supported by Gemini", param="messages")
    return parts


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.get("text") or "" for p in content or () if isinstance(p, dict))


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except ValueError:
        raise InvalidRequestError("tool call arguments must be a JSON object", param="messages") from None
    return value if isinstance(value, dict) else {"value": value}


def _tool_response(content: Any) -> dict[str, Any]:
    text = _text_of(content)
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return value if isinstance(value, dict) else {"result": value}


def contents_and_system(messages: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    system_parts: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    call_names: dict[str, str] = {}
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system_parts.extend(_content_parts(message.get("content")))
            continue
        if role == "assistant":
            gemini_role, parts = "model", _content_parts(message.get("content"))
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                call_names[call.get("id", "")] = function.get("name", "")
                part = {"functionCall": {"name": function.get("name", ""), "args": _arguments(function.get("arguments"))}}
                signature = str(call.get("id", "")).partition(THOUGHT_SIGNATURE_SEPARATOR)[2]
                if signature:
                    part["thoughtSignature"] = signature
                parts.append(part)
        elif role == "tool":
            name = call_names.get(message.get("tool_call_id", "")) or message.get("name") or ""
            if not name:
                raise InvalidRequestError("a tool message must answer a tool call of an earlier assistant message",
                                          param="messages")
            gemini_role = "user"
            parts = [{"functionResponse": {"name": name, "response": _tool_response(message.get("content"))}}]
        else:
            gemini_role, parts = "user", _content_parts(message.get("content"))
        if not parts:
            continue
        if contents and contents[-1]["role"] == gemini_role:
            contents[-1]["parts"].extend(parts)
        else:
            contents.append({"role": gemini_role, "parts": parts})
    return contents, ({"parts": system_parts} if system_parts else None)


def _function_declaration(function: dict[str, Any]) -> dict[str, Any]:
    declaration: dict[str, Any] = {"name": function.get("name", "")}
    if function.get("description"):
        declaration["description"] = function["description"]
    parameters = function.get("parameters")
    # Gemini rejects an OBJECT schema without properties: a function without parameters omits them.
    if isinstance(parameters, dict) and (parameters.get("properties") or parameters.get("type") not in (None, "object")):
        declaration["parameters"] = clean_schema(parameters)
    return declaration


def _tool_config(choice: Any) -> dict[str, Any] | None:
    if isinstance(choice, str) and choice in _TOOL_MODES:
        return {"functionCallingConfig": {"mode": _TOOL_MODES[choice]}}
    if isinstance(choice, dict) and choice.get("type") == "function":
        name = (choice.get("function") or {}).get("name")
        return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}
    return None


def _generation_config(body: dict[str, Any]) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for source, target in (("temperature", "temperature"), ("top_p", "topP"), ("n", "candidateCount"),
                           ("presence_penalty", "presencePenalty"), ("frequency_penalty", "frequencyPenalty"),
                           ("seed", "seed")):
        if body.get(source) is not None:
            config[target] = body[source]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit is not None:
        config["maxOutputTokens"] = limit
    stop = body.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    response_format = body.get("response_format") or {}
    if response_format.get("type") in ("json_object", "json_schema"):
        config["responseMimeType"] = "application/json"
        schema = (response_format.get("json_schema") or {}).get("schema")
        if isinstance(schema, dict):
            config["responseSchema"] = clean_schema(schema)
    return config


def build_body(body: dict[str, Any]) -> dict[str, Any]:
    contents, system = contents_and_system(body.get("messages") or [])
    payload: dict[str, Any] = {"contents": contents}
    if system:
        payload["systemInstruction"] = system
    tools = [t["function"] for t in body.get("tools") or () if t.get("type", "function") == "function" and t.get("function")]
    if tools:
        payload["tools"] = [{"functionDeclarations": [_function_declaration(f) for f in tools]}]
        tool_config = _tool_config(body.get("tool_choice"))
        if tool_config:
            payload["toolConfig"] = tool_config
    config = _generation_config(body)
    if config:
        payload["generationConfig"] = config
    return payload
