"""Gemini chat: OpenAI chat requests to `generateContent` / `streamGenerateContent?alt=sse`, and back.

Answers: the text parts of each candidate → `message.content` (thought summaries, parts marked `thought`,
are left out), `functionCall` parts → `tool_calls` with ids `call_<n>` (Gemini's own id when it sends
one; a `thoughtSignature` rides along as `<id>__thought__<signature>`) and the args as a JSON string; `finishReason` → `finish_reason` (`_FINISH`; a candidate that called a
function finishes with `tool_calls`). A prompt blocked by `promptFeedback.blockReason` is a
`content_filter` error. Usage: promptTokenCount (+ toolUsePromptTokenCount) → prompt tokens, of which
cachedContentTokenCount are cached; candidatesTokenCount + thoughtsTokenCount → completion tokens, of
which the thoughts are reasoning tokens.

Streams: every SSE `data:` is a whole GenerateContentResponse; there is no `[DONE]`, a finish reason marks
the end. Text → content deltas, each functionCall → one complete tool-call delta, usageMetadata →
`state.usage` (always), and the usage chunk after the finish chunk only when the client asked for it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, StreamState, UpstreamRequest, event_object
from gateway.providers.gemini import api, errors
from gateway.providers.gemini.request import THOUGHT_SIGNATURE_SEPARATOR, build_body
from gateway.sse import SseEvent
from gateway.usage import Usage

_FINISH = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    "SAFETY": "content_filter",
    "RECITATION": "content_filter",
    "BLOCKLIST": "content_filter",
    "PROHIBITED_CONTENT": "content_filter",
    "SPII": "content_filter",
    "IMAGE_SAFETY": "content_filter",
}


def finish_reason(gemini_reason: str | None, called_tools: bool) -> str | None:
    if not gemini_reason:
        return None
    mapped = _FINISH.get(gemini_reason, "stop")
    return "tool_calls" if called_tools and mapped == "stop" else mapped


def usage_from(metadata: Mapping[str, Any] | None) -> Usage | None:
    if not metadata:
        return None
    thoughts = int(metadata.get("thoughtsTokenCount") or 0)
    return Usage(
        input_tokens=int(metadata.get("promptTokenCount") or 0) + int(metadata.get("toolUsePromptTokenCount") or 0),
        cached_input_tokens=int(metadata.get("cachedContentTokenCount") or 0),
        output_tokens=int(metadata.get("candidatesTokenCount") or 0) + thoughts,
        reasoning_tokens=thoughts,
    )


def blocked_prompt_error(payload: Mapping[str, Any]) -> UpstreamError | None:
    """A 200 answer without candidates whose prompt Gemini refused."""
    reason = (payload.get("promptFeedback") or {}).get("blockReason")
    if payload.get("candidates") or not reason:
        return None
    return UpstreamError(ErrorCategory.CONTENT_FILTER, f"Gemini blocked the prompt (blockReason {reason}).")


def _split_parts(parts: list[dict[str, Any]], first_call: int) -> tuple[str | None, list[dict[str, Any]]]:
    """(text, tool calls) of a candidate's parts; tool calls are numbered from `first_call`."""
    texts, calls = [], []
    for part in parts:
        if "functionCall" in part:
            call = part["functionCall"] or {}
            call_id = call.get("id") or f"call_{first_call + len(calls)}"
            if part.get("thoughtSignature"):  # Gemini 3 wants it back with the call: carried in the id
                call_id += THOUGHT_SIGNATURE_SEPARATOR + part["thoughtSignature"]
            calls.append({
                "id": call_id,
                "type": "function",
                "function": {"name": call.get("name", ""), "arguments": json.dumps(call.get("args") or {})},
            })
        elif isinstance(part.get("text"), str) and not part.get("thought"):
            texts.append(part["text"])
    return ("".join(texts) if texts else None), calls


def _response_id(payload: Mapping[str, Any]) -> str:
    return "chatcmpl-" + str(payload.get("responseId") or uuid.uuid4().hex)


@dataclass(frozen=True)
class GeminiChat:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        stream = bool(body.get("stream"))
        return UpstreamRequest(
            "POST",
            api.generate_url(endpoint.base_url, upstream_model, stream=stream),
            api.headers(endpoint.api_key, stream=stream),
            json.dumps(build_body(body)).encode(),
        )

    def parse_response(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
        if (blocked := blocked_prompt_error(payload)) is not None:
            raise blocked
        candidates = payload.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "upstream answer has no candidates")
        choices, calls_so_far = [], 0
        for position, candidate in enumerate(candidates):
            text, calls = _split_parts((candidate.get("content") or {}).get("parts") or [], calls_so_far)
            calls_so_far += len(calls)
            message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
            if calls:
                message["tool_calls"] = calls
            choices.append({
                "index": candidate.get("index", position),
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(candidate.get("finishReason") or "STOP", bool(calls)),
            })
        usage = usage_from(payload.get("usageMetadata"))
        answer = {
            "id": _response_id(payload),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": payload.get("modelVersion") or "gemini",
            "choices": choices,
        }
        if usage is not None:
            answer["usage"] = usage.to_openai()
        return answer, usage

    def transform_event(self, event: SseEvent, state: StreamState) -> list[dict[str, Any]]:
        chunk = event_object(event.data)
        if isinstance(chunk.get("error"), dict):  # an error reported inside a 200 stream
            raise errors.parse_error(int(chunk["error"].get("code") or 500), {}, json.dumps(chunk).encode())
        if (blocked := blocked_prompt_error(chunk)) is not None:
            raise blocked
        memory = state.extra
        if "id" not in memory:
            memory.update(id=_response_id(chunk), created=int(time.time()), started=set(), calls={})
        head = {"id": memory["id"], "object": "chat.completion.chunk", "created": memory["created"],
                "model": chunk.get("modelVersion") or "gemini"}
        usage = usage_from(chunk.get("usageMetadata"))
        if usage is not None:
            state.usage = usage
        out, finished = [], False
        for position, candidate in enumerate(chunk.get("candidates") or ()):
            index = candidate.get("index", position)
            called = memory["calls"].get(index, 0)
            text, calls = _split_parts((candidate.get("content") or {}).get("parts") or [], called)
            delta: dict[str, Any] = {}
            if index not in memory["started"]:
                memory["started"].add(index)
                delta["role"] = "assistant"
            if text:
                delta["content"] = text
            if calls:
                delta["tool_calls"] = [{"index": called + i, **call} for i, call in enumerate(calls)]
                memory["calls"][index] = called + len(calls)
            reason = finish_reason(candidate.get("finishReason"), bool(memory["calls"].get(index)))
            if len(delta) > ("role" in delta) or (delta and reason is None):
                out.append({**head, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": None}]})
                delta = {}
            if reason is not None:
                finished = True
                state.finish_reason = reason
                out.append({**head, "choices": [{"index": index, "delta": delta, "logprobs": None, "finish_reason": reason}]})
        if finished and state.include_usage and state.usage is not None and not memory.get("usage_sent"):
            memory["usage_sent"] = True
            out.append({**head, "choices": [], "usage": state.usage.to_openai()})
        return out

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


CHAT = GeminiChat()
