"""Workers AI text embeddings (`@cf/baai/bge-small-en-v1.5`, `bge-base-en-v1.5`, `bge-large-en-v1.5`,
`bge-m3`) behind the OpenAI `/v1/embeddings`: the same run endpoint as chat (`…/ai/run/{model}`), or `AI.run`.

| OpenAI | Workers AI |
| --- | --- |
| `input` (a string or a list of strings) | `text`: always a list, one vector per text, in order |
| `input` as token arrays | 400 naming `input` (the models take text) |
| `dimensions` | 400 naming `dimensions`: each model has one size (384 small, 768 base, 1024 large and m3) |
| an extra `pooling` field (`mean` / `cls`, bge-*-en only) | passed as it is (Workers AI's default is `mean`) |
| `encoding_format` `float` / `base64` | floats come back; base64 is little-endian float32, as OpenAI encodes it |
| `user` | dropped |

Answer `{"result": {"shape": [n, d], "data": [[…], …], "pooling": "mean"}, "success": true, …}` (the binding
gives the `result` object alone; its port wraps it the same way) → the OpenAI list, `model` being the model the
client asked for. Workers AI reports no token counts for embeddings: usage is None and the pipeline bills the
documented estimate (4 characters a token), marked estimated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.openai_format.embeddings import embedding_list, text_inputs, wants_base64
from gateway.providers.workers_ai import api, errors
from gateway.usage import Usage


def build_inputs(body: Mapping[str, Any]) -> dict[str, Any]:
    if body.get("dimensions") is not None:
        raise InvalidRequestError("Workers AI embedding models have one output size each; 'dimensions' cannot be set.",
                                  param="dimensions", code="unsupported_parameter")
    inputs: dict[str, Any] = {"text": text_inputs(body.get("input"), "Workers AI")}
    if body.get("pooling") is not None:
        inputs["pooling"] = body["pooling"]
    return inputs


def vectors_of(payload: Mapping[str, Any], expected: int) -> list[list[float]]:
    if payload.get("success") is False:
        raise errors.parse_error(500, {}, json.dumps({"errors": [errors.first_error(payload)]}).encode())
    result = payload.get("result")
    data = result.get("data") if isinstance(result, dict) else None
    if not isinstance(data, list) or not all(isinstance(v, list) for v in data):
        raise UpstreamError(ErrorCategory.SERVER_ERROR, "Workers AI embeddings answer has no data list")
    if len(data) != expected:
        raise UpstreamError(ErrorCategory.SERVER_ERROR,
                            f"Workers AI answered {len(data)} vectors for {expected} inputs")
    return data


@dataclass(frozen=True)
class WorkersAIEmbeddings:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        return api.run_request(endpoint, upstream_model, build_inputs(body))

    def parse_response(self, payload: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
        vectors = vectors_of(payload, len(text_inputs(body.get("input"), "Workers AI")))
        return embedding_list(vectors, str(body.get("model") or ""), None, as_base64=wants_base64(body)), None

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


EMBEDDINGS = WorkersAIEmbeddings()
