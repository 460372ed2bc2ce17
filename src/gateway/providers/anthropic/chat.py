"""Anthropic Messages chat: the adapter (request, answer, stream, errors), pure transforms only.

Answer mapping: text blocks → `content` (joined), `tool_use` blocks → `tool_calls` (input as a JSON
string), `thinking` blocks are not shown; stop reasons end_turn/stop_sequence/pause_turn → stop,
max_tokens/model_context_window_exceeded → length, tool_use → tool_calls, refusal → content_filter.
Usage: prompt_tokens = input_tokens + cache_read_input_tokens + cache_creation_input_tokens (Anthropic
counts the three apart), cached_tokens = cache_read_input_tokens, completion_tokens = output_tokens.

Stream mapping, event by event: message_start → the first chunk (role); content_block_start of a
tool_use → a tool_call delta with index/id/type/name; text_delta → content; input_json_delta → an
arguments fragment; message_delta → the finish chunk (and the usage chunk when the client asked);
message_stop → done; ping and unknown events → nothing; an `error` event → the classified error.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.anthropic import api, errors
from gateway.providers.anthropic.request import build_payload
from gateway.providers.base import Endpoint, MalformedEvent, StreamState, UpstreamRequest, event_object
from gateway.sse import SseEvent
from gateway.usage import Usage

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}


def finish_reason(stop_reason: Any) -> str:
    return FINISH_REASONS.get(stop_reason, "stop") if stop_reason else "stop"


def read_usage(usage: Mapping[str, Any] | None) -> Usage | None:
    if not usage:
        return None
    cache_read = int(usage.get("cache_read_input_tokens") or 0)
    cache_write = int(usage.get("cache_creation_input_tokens") or 0)
    return Usage(
        input_tokens=int(usage.get("input_tokens") or 0) + cache_read + cache_write,
        cached_input_tokens=cache_read,
        output_tokens=int(usage.get("output_tokens") or 0),
    )


@dataclass(frozen=True)
class AnthropicChat:
    clock: Callable[[], float] = time.time  # only for `created`, which Anthropic answers do not carry

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        payload = build_payload(body, upstream_model)
        headers = api.headers(endpoint.api_key, stream=bool(payload.get("stream")))
        return UpstreamRequest("POST", api.messages_url(endpoint.base_url), headers, json.dumps(payload).encode())

    def parse_response(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
        blocks = payload.get("content")
        if payload.get("type") == "error" or not isinstance(blocks, list):
            if isinstance(payload.get("error"), dict):
                raise errors.stream_error(payload["error"])
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "upstream answer has no content")
        texts, calls = [], []
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "text":
                texts.append(block.get("text") or "")
            elif block.get("type") == "tool_use":
                calls.append({
                    "id": block.get("id"),
                    "type": "function",
                    "function": {"name": block.get("name"), "arguments": json.dumps(block.get("input") or {})},
                })
        message: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts or not calls else None}
        if calls:
            message["tool_calls"] = calls
        if payload.get("stop_reason") == "refusal":
            message["refusal"] = message["content"] or None
        usage = read_usage(payload.get("usage"))
        answer: dict[str, Any] = {
            "id": payload.get("id") or "msg",
            "object": "chat.completion",
            "created": int(self.clock()),
            "model": payload.get("model"),
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": finish_reason(payload.get("stop_reason"))}],
        }
        if usage is not None:
            answer["usage"] = usage.to_openai()
        return answer, usage

    def transform_event(self, event: SseEvent, state: StreamState) -> list[dict[str, Any]]:
        data = event_object(event.data)
        kind = data.get("type") or event.event
        memory = state.extra
        if kind == "message_start":
            message = data.get("message") or {}
            memory.update(id=message.get("id") or "msg", model=message.get("model"), created=int(self.clock()),
                          usage=dict(message.get("usage") or {}), tools={})
            return [self._chunk(memory, {"role": "assistant", "content": ""})]
        if kind == "content_block_start":
            block = data.get("content_block") or {}
            if block.get("type") == "tool_use":
                tools = memory.setdefault("tools", {})
                position = tools[data.get("index")] = len(tools)
                call = {"index": position, "id": block.get("id"), "type": "function",
                        "function": {"name": block.get("name"), "arguments": ""}}
                return [self._chunk(memory, {"tool_calls": [call]})]
            if block.get("type") == "text" and block.get("text"):
                return [self._chunk(memory, {"content": block["text"]})]
            return []
        if kind == "content_block_delta":
            delta = data.get("delta") or {}
            if delta.get("type") == "text_delta" and delta.get("text"):
                return [self._chunk(memory, {"content": delta["text"]})]
            if delta.get("type") == "input_json_delta" and delta.get("partial_json"):
                position = memory.get("tools", {}).get(data.get("index"))
                if position is None:
                    raise MalformedEvent(f"input_json_delta for unknown block {data.get('index')}")
                call = {"index": position, "function": {"arguments": delta["partial_json"]}}
                return [self._chunk(memory, {"tool_calls": [call]})]
            return []  # thinking, signature and citation deltas are not part of the OpenAI answer
        if kind == "message_delta":
            usage = memory.setdefault("usage", {})
            usage.update({k: v for k, v in (data.get("usage") or {}).items() if v is not None})
            state.usage = read_usage(usage) or Usage()
            state.finish_reason = finish_reason((data.get("delta") or {}).get("stop_reason"))
            chunks = [self._chunk(memory, {}, state.finish_reason)]
            if state.include_usage:
                chunks.append({**self._head(memory), "choices": [], "usage": state.usage.to_openai()})
            return chunks
        if kind == "message_stop":
            state.done = True
            return []
        if kind == "error":
            fields = data.get("error") if isinstance(data.get("error"), dict) else {"message": str(data.get("error"))}
            raise errors.stream_error(fields)
        return []  # ping, and event types added after this adapter was written

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)

    @staticmethod
    def _head(memory: dict[str, Any]) -> dict[str, Any]:
        return {"id": memory.get("id", "msg"), "object": "chat.completion.chunk",
                "created": memory.get("created", 0), "model": memory.get("model")}

    def _chunk(self, memory: dict[str, Any], delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return {**self._head(memory), "choices": [choice]}


CHAT = AnthropicChat()
