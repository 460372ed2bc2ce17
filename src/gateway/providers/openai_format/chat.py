"""Chat completions in the OpenAI wire format: near-passthrough, with usage always requested.

`OpenAIFormatChat` is the one map factory every OpenAI-compatible provider uses; a provider
overrides only what differs, as data: the path, extra headers, parameters it drops, parameters (or
values) it rejects, message fields it drops, and where else its stream chunks carry usage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.providers.base import Endpoint, StreamState, UpstreamRequest, event_object
from gateway.providers.openai_format import errors
from gateway.sse import EncodedChunk, SseEvent
from gateway.usage import Usage


def bearer_headers(api_key: str | None) -> dict[str, str]:
    headers = {"content-type": "application/json"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def bearer_json_post(url: str, api_key: str | None, payload: dict[str, Any]) -> UpstreamRequest:
    """A JSON POST with a Bearer key: how every OpenAI-like API takes a request."""
    return UpstreamRequest("POST", url, bearer_headers(api_key),
                           json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())


@dataclass(frozen=True)
class OpenAIFormatChat:
    path: str = "/chat/completions"
    # Always ask for the final usage chunk: a streamed call must be billed from real counts.
    request_stream_usage: bool = True
    unsupported_params: frozenset[str] = frozenset()  # dropped silently: harmless hints the provider rejects
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    headers_for: Callable[[str | None], dict[str, str]] = bearer_headers
    display_name: str = "this provider"  # names the provider in the gateway's own 400s
    # Parameters the provider does not honour where dropping them would change the answer the client
    # asked for (log probabilities, tools): the gateway answers 400 naming the field instead. A null,
    # false or empty value counts as not given. name -> why
    rejected_params: Mapping[str, str] = field(default_factory=dict)
    # Parameters of which the provider accepts only some values (Groq: `n` must be 1); null is absent.
    allowed_values: Mapping[str, tuple[Any, ...]] = field(default_factory=dict)
    # Fields removed from every message (hints the provider answers 400 for, like Groq's `name`).
    dropped_message_fields: frozenset[str] = frozenset()
    # Where else than `usage` a stream chunk may carry the usage (Groq: ("x_groq", "usage")); usage found
    # there is counted, and lifted to `usage` for a client that asked for it.
    stream_usage_paths: tuple[tuple[str, ...], ...] = ()

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        self._check_params(body)
        payload = {k: v for k, v in body.items() if k not in self.unsupported_params}
        if self.dropped_message_fields and isinstance(payload.get("messages"), list):
            payload["messages"] = [self._strip_message(m) for m in payload["messages"]]
        payload["model"] = upstream_model
        if payload.get("stream") and self.request_stream_usage:
            payload["stream_options"] = {**(payload.get("stream_options") or {}), "include_usage": True}
        headers = {**self.headers_for(endpoint.api_key), **self.extra_headers}
        if payload.get("stream"):
            headers["accept"] = "text/event-stream"
        return UpstreamRequest(
            "POST", endpoint.base_url.rstrip("/") + self.path, headers, json.dumps(payload).encode()
        )

    def parse_response(self, payload: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
        if not isinstance(payload.get("choices"), list):
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "upstream answer has no choices")
        return payload, Usage.from_openai(payload.get("usage"))

    def transform_event(self, event: SseEvent, state: StreamState) -> list[dict[str, Any]]:
        if event.data == "[DONE]":
            state.done = True
            return []
        chunk = event_object(event.data)
        if "error" in chunk:  # an error reported inside a 200 stream
            fields = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            raise errors.parse_error(500, {}, json.dumps({"error": fields}).encode())
        usage = Usage.from_openai(chunk.get("usage"))
        lifted = None
        if usage is None and self.stream_usage_paths:
            lifted = _usage_elsewhere(chunk, self.stream_usage_paths)
            usage = Usage.from_openai(lifted)
        if usage is not None:
            state.usage = usage
        choices = chunk.get("choices") or []
        for choice in choices:
            if choice.get("finish_reason"):
                state.finish_reason = choice["finish_reason"]
        if state.include_usage:
            if lifted:
                return [{**chunk, "usage": lifted}]  # where the client looks for it
            return [EncodedChunk(chunk, event.data)]  # unchanged: forwarded as it came
        if not choices and usage is not None:
            return []  # the usage-only chunk the client did not ask for
        chunk.pop("usage", None)
        return [chunk]

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)

    def _check_params(self, body: Mapping[str, Any]) -> None:
        for name, why in self.rejected_params.items():
            if _given(body.get(name)):
                raise InvalidRequestError(
                    f"'{name}' is not supported by {self.display_name}: {why}", param=name, code="unsupported_parameter"
                )
        for name, allowed in self.allowed_values.items():
            value = body.get(name)
            if value is not None and not any(value == a and type(value) is type(a) for a in allowed):
                shown = ", ".join(json.dumps(a) for a in allowed)
                raise InvalidRequestError(
                    f"'{name}' must be {shown} for {self.display_name}, got {json.dumps(value)}",
                    param=name,
                    code="unsupported_parameter",
                )

    def _strip_message(self, message: Any) -> Any:
        if not isinstance(message, dict) or not self.dropped_message_fields.intersection(message):
            return message
        return {k: v for k, v in message.items() if k not in self.dropped_message_fields}


def _given(value: Any) -> bool:
    return value is not None and value is not False and value != {} and value != []


def _usage_elsewhere(chunk: Mapping[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any] | None:
    for path in paths:
        found: Any = chunk
        for key in path:
            found = found.get(key) if isinstance(found, dict) else None
        if isinstance(found, dict) and found:
            return found
    return None
