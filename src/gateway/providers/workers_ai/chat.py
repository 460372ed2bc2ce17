"""Workers AI text generation behind the OpenAI chat format.

Answers `{"result": {"response", "tool_calls", "usage"}, "success": true, "errors": [], "messages": []}`
(the `AI` binding gives the `result` object alone; its port wraps it the same way): `response` → content
(an object, as JSON mode can answer, is serialized), `tool_calls` (Workers AI's `{"name", "arguments"}`
or the OpenAI form newer models use) → OpenAI `tool_calls` with `call_<n>` ids and the arguments as a JSON
string, `usage` {prompt_tokens, completion_tokens} → usage. Workers AI reports no finish reason: `tool_calls`
when the model called one, else `stop`. A `result` already in the OpenAI format (`choices`) passes through.
The answer names no model: `model` is `workers-ai`.

Streams: SSE `data: {"response": "<text>", "p": …}` events, the last one carrying `usage`, then
`data: [DONE]`. Text → content deltas (the first with `role`), `tool_calls` → complete tool-call deltas,
`usage` → `state.usage` (always billed from it); at `[DONE]` the finish chunk, then the usage chunk when
the client asked for it. A stream that ends without `[DONE]` is incomplete (the pipeline says so).
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, StreamState, UpstreamRequest, event_object
from gateway.providers.workers_ai import api, errors
from gateway.providers.workers_ai.request import build_inputs
from gateway.sse import SseEvent
from gateway.usage import Usage

MODEL_NAME = "workers-ai"


def _text(response: Any) -> str | None:
    if response is None:
        return None
    return response if isinstance(response, str) else json.dumps(response)


def tool_calls(raw: Any, first: int = 0) -> list[dict[str, Any]]:
    calls = []
    for position, call in enumerate(raw if isinstance(raw, list) else ()):
        if not isinstance(call, dict):
            continue
        function = call.get("function") if isinstance(call.get("function"), dict) else call
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments if arguments is not None else {})
        calls.append({"id": call.get("id") or f"call_{first + position}", "type": "function",
                      "function": {"name": function.get("name") or "", "arguments": arguments}})
    return calls


def _result(payload: Mapping[str, Any]) -> dict[str, Any]:
    if payload.get("success") is False:
        fields = errors.first_error(payload)
        raise errors.parse_error(500, {}, json.dumps({"errors": [fields]}).encode())
    result = payload.get("result")
    if not isinstance(result, dict):
        raise UpstreamError(ErrorCategory.SERVER_ERROR, "upstream answer has no result")
    return result


@dataclass(frozen=True)
class WorkersAIChat:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        inputs = build_inputs(body)
        return api.run_request(endpoint, upstream_model, inputs)

    def parse_response(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
        result = _result(payload)
        if isinstance(result.get("choices"), list):  # a model that answers in the OpenAI format already
            return {"object": "chat.completion", "model": MODEL_NAME, **result}, Usage.from_openai(result.get("usage"))
        calls = tool_calls(result.get("tool_calls"))
        message: dict[str, Any] = {"role": "assistant", "content": _text(result.get("response")), "refusal": None}
        if calls:
            message["tool_calls"] = calls
        usage = Usage.from_openai(result.get("usage"))
        answer = {
            "id": "chatcmpl-" + uuid.uuid4().hex,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": MODEL_NAME,
            "choices": [{"index": 0, "message": message, "logprobs": None,
                         "finish_reason": "tool_calls" if calls else "stop"}],
        }
        if usage is not None:
            answer["usage"] = usage.to_openai()
        return answer, usage

    def transform_event(self, event: SseEvent, state: StreamState) -> list[dict[str, Any]]:
        memory = state.extra
        if "id" not in memory:
            memory.update(id="chatcmpl-" + uuid.uuid4().hex, created=int(time.time()), calls=0, started=False)
        head = {"id": memory["id"], "object": "chat.completion.chunk", "created": memory["created"],
                "model": MODEL_NAME}
        if event.data == "[DONE]":
            state.done = True
            if state.finish_reason is not None:
                return []
            state.finish_reason = "tool_calls" if memory["calls"] else "stop"
            out = [{**head, "choices": [{"index": 0, "delta": {}, "logprobs": None,
                                         "finish_reason": state.finish_reason}]}]
            if state.include_usage and state.usage is not None:
                out.append({**head, "choices": [], "usage": state.usage.to_openai()})
            return out
        chunk = event_object(event.data)
        if chunk.get("success") is False or isinstance(chunk.get("errors"), list) and chunk["errors"]:
            raise errors.parse_error(500, {}, json.dumps(chunk).encode())
        if isinstance(chunk.get("error"), str):
            code, message = errors.split_code(chunk["error"])
            raise errors.parse_error(500, {},
                                     json.dumps({"errors": [{"code": code, "message": message}]}).encode())
        usage = Usage.from_openai(chunk.get("usage"))
        if usage is not None:
            state.usage = usage
        delta: dict[str, Any] = {}
        text = _text(chunk.get("response"))
        if text:
            delta["content"] = text
        calls = tool_calls(chunk.get("tool_calls"), memory["calls"])
        if calls:
            delta["tool_calls"] = [{"index": memory["calls"] + i, **call} for i, call in enumerate(calls)]
            memory["calls"] += len(calls)
        if not delta:
            return []
        if not memory["started"]:
            memory["started"] = True
            delta = {"role": "assistant", **delta}
        return [{**head, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}]}]

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


CHAT = WorkersAIChat()
