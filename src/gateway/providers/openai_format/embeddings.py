"""Embeddings in the OpenAI wire format (`POST {base}/embeddings`): a passthrough, shared by OpenAI and
every OpenAI-compatible provider, plus the float ↔ base64 helpers other adapters use.

`encoding_format: "base64"` is passed upstream as it is (the vectors come back as base64 strings of
little-endian float32). Some compatible servers ignore it and answer floats anyway: the gateway then
encodes them itself, so the client always gets what it asked for.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.openai_format import errors
from gateway.providers.openai_format.chat import bearer_headers
from gateway.usage import Usage


def floats_to_base64(vector: Sequence[float]) -> str:
    """A vector as OpenAI's base64 encoding: little-endian float32, base64 (standard alphabet)."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")


def base64_to_floats(encoded: str) -> list[float]:
    raw = base64.b64decode(encoded)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def text_inputs(value: Any, provider: str) -> list[str]:
    """`input` as a list of texts, for providers that embed text only (token arrays: 400 naming `input`)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return list(value)
    raise InvalidRequestError(
        f"{provider} embeds text only: 'input' must be a string or a list of strings (token arrays are not accepted).",
        param="input",
        code="unsupported_parameter",
    )


def wants_base64(body: Mapping[str, Any]) -> bool:
    return body.get("encoding_format") == "base64"


def embedding_list(vectors: Sequence[Sequence[float]], model: str, usage: Usage | None, *, as_base64: bool) -> dict[str, Any]:
    """The OpenAI embeddings answer for vectors in input order."""
    data = [
        {"object": "embedding", "index": index, "embedding": floats_to_base64(vector) if as_base64 else list(vector)}
        for index, vector in enumerate(vectors)
    ]
    answer: dict[str, Any] = {"object": "list", "data": data, "model": model}
    tokens = usage.input_tokens if usage is not None else 0
    answer["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    return answer


@dataclass(frozen=True)
class OpenAIFormatEmbeddings:
    path: str = "/embeddings"
    headers_for: Callable[[str | None], dict[str, str]] = bearer_headers

    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        payload = {**body, "model": upstream_model}
        return UpstreamRequest(
            "POST", endpoint.base_url.rstrip("/") + self.path, self.headers_for(endpoint.api_key),
            json.dumps(payload).encode(),
        )

    def parse_response(self, payload: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
        data = payload.get("data")
        if not isinstance(data, list):
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "upstream embeddings answer has no data list")
        if wants_base64(body):
            for item in data:
                if isinstance(item, dict) and isinstance(item.get("embedding"), list):
                    item["embedding"] = floats_to_base64(item["embedding"])  # the server ignored encoding_format
        return payload, Usage.from_openai(payload.get("usage"))

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)
