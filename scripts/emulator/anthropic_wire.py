"""Anthropic Messages wire format: bodies, the SSE event sequence and error envelopes (pure, no I/O).

The answer follows openai_wire's deterministic rules on an OpenAI-shaped view of the request, so the same
conversation gets the same reply and token counts whichever wire format carried it:

- the view: `system` (string or text blocks) becomes a first system message; each message's text is its
  string content, or the text of its `text` blocks and `tool_result` contents joined with single spaces;
- reply, prompt tokens (words + 4 per message of the view), completion tokens, `max_tokens` cuts
  (stop_reason "max_tokens") and the tool call ("weather" in the last user text with tools offered and
  `tool_choice` not none: a `tool_use` block with input {"location": "Paris"}) are openai_wire's;
- usage: the words of text blocks that carry `cache_control` (in `system` or a message) are reported as
  `cache_read_input_tokens`, the rest of the prompt tokens as `input_tokens` (no cache writes);
  output_tokens as above;
- stream: message_start, content_block_start, ping, one content_block_delta per word (text_delta, words
  after the first with a leading space) or per 6-character piece of the tool input (input_json_delta,
  after an empty one as Anthropic sends), content_block_stop, message_delta (stop_reason, output_tokens),
  message_stop;
- the `content-filter` faults are not errors on Anthropic: the answer ends with stop_reason "refusal".
"""

from __future__ import annotations

import base64
import binascii
import json

from scripts.emulator import openai_wire, stream_shape
from scripts.emulator.knobs import Knobs
from scripts.emulator.openai_wire import TOOL_ARGUMENTS, Reply, encode, plan_reply

API_VERSION_HEADER = "anthropic-version"
IMAGE_MEDIA_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}
SSE_MALFORMED = b'event: content_block_delta\ndata: {"type": "content_block_delta", broken\n\n'


def sse(event_type: str, obj: dict) -> bytes:
    return b"event: " + event_type.encode() + b"\ndata: " + encode(obj) + b"\n\n"


# ---- requests -------------------------------------------------------------------------------------


def block_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    texts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "tool_result":
            texts.append(block_text(block.get("content")))
    return " ".join(texts)


def openai_view(body: dict) -> dict:
    """The request as openai_wire reads one: system first, then the messages, tools and limit."""
    messages = [{"role": "system", "content": block_text(body["system"])}] if body.get("system") else []
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            messages.append({"role": message.get("role"), "content": block_text(message.get("content"))})
    choice = body.get("tool_choice")
    view = {"messages": messages, "max_tokens": body.get("max_tokens")}
    if body.get("tools"):
        view["tools"] = [{"type": "function", "function": {"name": t.get("name")}} for t in body["tools"]
                         if isinstance(t, dict)]
        view["tool_choice"] = "none" if isinstance(choice, dict) and choice.get("type") == "none" else "auto"
    return view


def texts(body: dict) -> list[str]:
    """The text of every message of the view, in order: where knob markers are looked for."""
    return openai_wire.chat_texts(openai_view(body))


def plan(body: dict, fault: str | None) -> Reply:
    view = openai_view(body)
    if fault == "content-filter":
        fault = "content-filter-finish"
    return plan_reply(view, openai_wire.chat_texts(view), fault)


def validate(body: dict) -> str | None:
    """Anthropic's own 400 message for a request it would refuse, or None."""
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int) or isinstance(body.get("max_tokens"), bool):
        return "max_tokens: Field required"
    if body["max_tokens"] < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: Field required" if messages is None else "messages: at least one message is required"
    temperature = body.get("temperature")
    if isinstance(temperature, (int, float)) and not 0 <= temperature <= 1:
        return "temperature: Input should be less than or equal to 1"
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ("user", "assistant"):
            return (f"messages.{index}.role: Input should be 'user' or 'assistant'"
                    if role != "system" else
                    'messages: Unexpected role "system". The Messages API accepts a top-level `system` '
                    "parameter, not \"system\" as an input message role.")
        content = message.get("content")
        if isinstance(content, list):
            for number, block in enumerate(content):
                problem = _block_problem(block)
                if problem:
                    return f"messages.{index}.content.{number}.{problem}"
        elif not isinstance(content, str):
            return f"messages.{index}.content: Input should be a valid string or list"
    return None


def _block_problem(block: object) -> str | None:
    if not isinstance(block, dict):
        return "type: Field required"
    if block.get("type") == "text" and not block.get("text"):
        return "text: text content blocks must be non-empty"
    if block.get("type") == "image":
        source = block.get("source") or {}
        if source.get("type") == "url":
            return None if str(source.get("url", "")).startswith(("https://", "http://")) else "source.url: invalid URL"
        if source.get("type") != "base64":
            return "source.type: Input should be 'base64' or 'url'"
        if source.get("media_type") not in IMAGE_MEDIA_TYPES:
            return "source.media_type: Input should be " + ", ".join(f"'{m}'" for m in IMAGE_MEDIA_TYPES)
        try:
            base64.b64decode(source.get("data") or "", validate=True)
        except (binascii.Error, ValueError):
            return "source.data: invalid base64 data"
    return None


# ---- answers --------------------------------------------------------------------------------------


def cached_tokens(body: dict) -> int:
    """Words of the text blocks marked with `cache_control`: what the emulator reports as cache reads."""
    blocks = list(body["system"]) if isinstance(body.get("system"), list) else []
    for message in body.get("messages") or []:
        if isinstance(message, dict) and isinstance(message.get("content"), list):
            blocks.extend(message["content"])
    return sum(len(b["text"].split()) for b in blocks
               if isinstance(b, dict) and b.get("cache_control") and isinstance(b.get("text"), str))


def usage(prompt_tokens: int, output_tokens: int, cached: int = 0) -> dict:
    cached = min(cached, prompt_tokens)
    return {"input_tokens": prompt_tokens - cached, "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cached, "output_tokens": output_tokens, "service_tier": "standard"}


def message(mid: str, model: str, reply: Reply, tool_id: str, cached: int = 0) -> dict:
    if reply.tool_name:
        content = [{"type": "tool_use", "id": tool_id, "name": reply.tool_name, "input": json.loads(TOOL_ARGUMENTS)}]
    elif reply.content:
        content = [{"type": "text", "text": reply.content}]
    else:
        content = []
    return {"id": mid, "type": "message", "role": "assistant", "model": model, "content": content,
            "stop_reason": STOP_REASONS[reply.finish_reason], "stop_sequence": None,
            "usage": usage(reply.prompt_tokens, reply.completion_tokens, cached)}


def stream_events(
    mid: str, model: str, reply: Reply, tool_id: str, knobs: Knobs, cached: int = 0
) -> list[bytes]:
    """The SSE events of one streamed answer, already encoded; stream faults shape the list here."""
    start = {"id": mid, "type": "message", "role": "assistant", "model": model, "content": [],
             "stop_reason": None, "stop_sequence": None, "usage": usage(reply.prompt_tokens, 1, cached)}
    events = [sse("message_start", {"type": "message_start", "message": start})]
    if reply.tool_name:
        block = {"type": "tool_use", "id": tool_id, "name": reply.tool_name, "input": {}}
        pieces = [""] + [TOOL_ARGUMENTS[i : i + 6] for i in range(0, len(TOOL_ARGUMENTS), 6)]
        deltas = [{"type": "input_json_delta", "partial_json": p} for p in pieces]
    else:
        block = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": w if i == 0 else " " + w} for i, w in enumerate(reply.words)]
    has_block = bool(reply.tool_name or reply.words)
    if has_block:
        events.append(sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}))
    events.append(sse("ping", {"type": "ping"}))
    body = [sse("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": d}) for d in deltas]
    fault = knobs.fault
    if fault == "cut-stream":  # the server closes the connection after these
        return events + body[: stream_shape.cut_count(knobs, len(body))]
    if fault == "malformed-chunk":
        body.insert(len(body) // 2, SSE_MALFORMED)
    events += stream_shape.with_stall(body, knobs)
    if has_block:
        events.append(sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
    delta = {"stop_reason": STOP_REASONS[reply.finish_reason], "stop_sequence": None}
    events.append(sse("message_delta", {"type": "message_delta", "delta": delta,
                                        "usage": {"output_tokens": reply.completion_tokens}}))
    if fault != "no-done":
        events.append(sse("message_stop", {"type": "message_stop"}))
    return events


# ---- errors ---------------------------------------------------------------------------------------


def error(error_type: str, message: str, request_id: str) -> dict:
    return {"type": "error", "error": {"type": error_type, "message": message}, "request_id": request_id}


def fault_error(fault: str, model: str, request_id: str) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) of a fault answered with an Anthropic error; None for other faults."""
    if fault in ("429", "429-no-retry-after"):
        headers = {"anthropic-ratelimit-requests-limit": "50", "anthropic-ratelimit-requests-remaining": "0",
                   "anthropic-ratelimit-requests-reset": "2026-01-01T00:00:02Z"}
        if fault == "429":
            headers["retry-after"] = "2"
        message = ("This request would exceed the rate limit for your organization of 50 requests per minute. "
                   "For details, refer to: https://docs.claude.com/en/api/rate-limits.")
        return 429, error("rate_limit_error", message, request_id), headers
    if fault == "401":
        return 401, error("authentication_error", "invalid x-api-key", request_id), {}
    if fault == "500-once":
        return 500, error("api_error", "Internal server error", request_id), {}
    if fault == "503":  # Anthropic's overload status is 529, not 503
        return 529, error("overloaded_error", "Overloaded", request_id), {}
    if fault == "context-length":
        return 400, error("invalid_request_error", "prompt is too long: 208310 tokens > 200000 maximum", request_id), {}
    if fault == "model-not-found":
        return 404, error("not_found_error", f"model: {model}", request_id), {}
    return None
