"""OpenAI chat answers → Anthropic Messages answers: the message, the stream's events and errors.

Pure functions over plain dicts (no pydantic, no I/O); the request side is `anthropic_messages.py`.

Answer (OpenAI → Anthropic): content → a text block, tool calls → `tool_use` blocks (arguments
parsed); finish_reason stop → `end_turn` (the OpenAI format does not say whether a stop sequence
matched, so `stop_sequence` is never reported), length → `max_tokens`, tool_calls → `tool_use`,
content_filter → `refusal`. Usage: Anthropic counts cache reads apart, so `input_tokens` =
prompt_tokens − cached_tokens and `cache_read_input_tokens` = cached_tokens; `output_tokens` =
completion_tokens.

Stream (OpenAI chunks → Anthropic events): `message_start` (usage 0: the counts come at the end) and
`ping` first; text deltas → a text block, each tool call → a `tool_use` block with `input_json_delta`
fragments, each block opened with `content_block_start` and closed with `content_block_stop` when the
next begins; at `[DONE]`: `message_delta` (stop reason, cumulative usage incl. input tokens) and
`message_stop`. A pipeline error event → Anthropic's `error` event, and the stream ends.
"""

from __future__ import annotations

import json
from typing import Any

FINISH_TO_STOP_REASON = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}

# Anthropic's error type for each HTTP status (Anthropic's errors reference); other 4xx are
# invalid_request_error, other 5xx api_error.
STATUS_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}

# The status behind each OpenAI error `type` the pipeline puts into a broken stream.
_OPENAI_TYPE_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "insufficient_quota": 429,
    "timeout_error": 504,
}


# ---- errors ---------------------------------------------------------------------------------------


def error_type_for_status(status: int) -> str:
    if status in STATUS_ERROR_TYPES:
        return STATUS_ERROR_TYPES[status]
    return "invalid_request_error" if 400 <= status < 500 else "api_error"


def error_body(status: int, message: str, request_id: str | None = None) -> dict[str, Any]:
    """Anthropic's error envelope `{"type": "error", "error": {"type", "message"}, "request_id"}`."""
    body: dict[str, Any] = {"type": "error", "error": {"type": error_type_for_status(status), "message": message}}
    if request_id:
        body["request_id"] = request_id
    return body


def stream_error_body(openai_error: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
    """An OpenAI error envelope from a broken stream → the data of Anthropic's `error` event."""
    fields = openai_error.get("error") if isinstance(openai_error.get("error"), dict) else {}
    status = _OPENAI_TYPE_STATUS.get(str(fields.get("type")), 500)
    return error_body(status, str(fields.get("message") or "The stream failed."), request_id)


# ---- answer: OpenAI → Anthropic -------------------------------------------------------------------


def stop_reason(finish_reason: Any) -> str:
    return FINISH_TO_STOP_REASON.get(finish_reason, "end_turn") if finish_reason else "end_turn"


def usage_from_openai(usage: Any) -> dict[str, Any]:
    usage = usage if isinstance(usage, dict) else {}
    details = usage.get("prompt_tokens_details") if isinstance(usage.get("prompt_tokens_details"), dict) else {}
    prompt = int(usage.get("prompt_tokens") or 0)
    cached = min(int(details.get("cached_tokens") or 0), prompt)
    return {
        "input_tokens": prompt - cached,
        "output_tokens": int(usage.get("completion_tokens") or 0),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": cached,
    }


def tool_input(arguments: Any) -> dict[str, Any]:
    """A tool call's arguments (a JSON string) as Anthropic's `input` object."""
    if isinstance(arguments, dict):
        return arguments
    if not arguments:
        return {}
    try:
        parsed = json.loads(arguments)
    except (TypeError, ValueError):
        return {"value": arguments}  # a model that wrote broken JSON: keep what it wrote
    return parsed if isinstance(parsed, dict) else {"value": parsed}


def to_anthropic_message(completion: dict[str, Any], model: str, message_id: str) -> dict[str, Any]:
    """An OpenAI chat.completion → an Anthropic `message` (first choice)."""
    choices = completion.get("choices") or [{}]
    choice = choices[0] if isinstance(choices[0], dict) else {}
    message = choice.get("message") or {}
    content: list[dict[str, Any]] = []
    text = message.get("content") or message.get("refusal")
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    for call in message.get("tool_calls") or ():
        function = call.get("function") or {}
        content.append({"type": "tool_use", "id": call.get("id") or f"toolu_{len(content)}",
                        "name": function.get("name"), "input": tool_input(function.get("arguments"))})
    return {
        "id": message_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason")),
        "stop_sequence": None,
        "usage": usage_from_openai(completion.get("usage")),
    }


# ---- stream: OpenAI chunks → Anthropic events -----------------------------------------------------


def encode_event(event: dict[str, Any]) -> bytes:
    """One Anthropic SSE event: the `event:` name is the data's `type`."""
    return f"event: {event['type']}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n".encode()


class StreamConverter:
    """Feed OpenAI chunks in order; get Anthropic events. `start()` first, `done()` at `[DONE]`,
    `error()` for a pipeline error event; `close()` at the end of the stream (ends it when the
    pipeline ended without `[DONE]` and without an error)."""

    def __init__(self, model: str, message_id: str, request_id: str | None = None) -> None:
        self.model = model
        self.message_id = message_id
        self.request_id = request_id
        self.finish_reason: str | None = None
        self.usage: dict[str, Any] | None = None
        self._next_index = 0
        self._open: tuple[str, Any, int] | None = None   # ("text", None, index) | ("tool", openai index, index)
        self._tool_blocks: dict[Any, int] = {}           # OpenAI tool-call index → Anthropic block index
        self._ended = False

    def start(self) -> list[dict[str, Any]]:
        message = {"id": self.message_id, "type": "message", "role": "assistant", "model": self.model,
                   "content": [], "stop_reason": None, "stop_sequence": None,
                   "usage": {"input_tokens": 0, "output_tokens": 0}}
        return [{"type": "message_start", "message": message}, {"type": "ping"}]

    def feed(self, chunk: dict[str, Any]) -> list[dict[str, Any]]:
        if self._ended:
            return []
        if "error" in chunk and not chunk.get("choices"):
            return self.error(chunk)
        events: list[dict[str, Any]] = []
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            if not isinstance(choice, dict) or choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            text = delta.get("content") or delta.get("refusal")
            if isinstance(text, str) and text:
                events.extend(self._text(text))
            for call in delta.get("tool_calls") or ():
                if isinstance(call, dict):
                    events.extend(self._tool_call(call))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return events

    def done(self) -> list[dict[str, Any]]:
        if self._ended:
            return []
        self._ended = True
        events = self._close_block()
        usage = usage_from_openai(self.usage)
        events.append({"type": "message_delta",
                       "delta": {"stop_reason": stop_reason(self.finish_reason), "stop_sequence": None},
                       "usage": usage})
        events.append({"type": "message_stop"})
        return events

    def error(self, openai_error: dict[str, Any]) -> list[dict[str, Any]]:
        if self._ended:
            return []
        self._ended = True
        return [stream_error_body(openai_error, self.request_id)]

    def close(self) -> list[dict[str, Any]]:
        return self.done()

    def _text(self, text: str) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        if self._open is None or self._open[0] != "text":
            events.extend(self._close_block())
            index = self._new_block()
            self._open = ("text", None, index)
            events.append({"type": "content_block_start", "index": index,
                           "content_block": {"type": "text", "text": ""}})
        events.append({"type": "content_block_delta", "index": self._open[2],
                       "delta": {"type": "text_delta", "text": text}})
        return events

    def _tool_call(self, call: dict[str, Any]) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        key = call.get("index", 0)
        function = call.get("function") or {}
        index = self._tool_blocks.get(key)
        if index is None:
            events.extend(self._close_block())
            index = self._tool_blocks[key] = self._new_block()
            self._open = ("tool", key, index)
            events.append({"type": "content_block_start", "index": index, "content_block": {
                "type": "tool_use", "id": call.get("id") or f"toolu_{index}", "name": function.get("name") or "",
                "input": {}}})
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            events.append({"type": "content_block_delta", "index": index,
                           "delta": {"type": "input_json_delta", "partial_json": arguments}})
        return events

    def _new_block(self) -> int:
        index = self._next_index
        self._next_index += 1
        return index

    def _close_block(self) -> list[dict[str, Any]]:
        if self._open is None:
            return []
        index = self._open[2]
        self._open = None
        return [{"type": "content_block_stop", "index": index}]
