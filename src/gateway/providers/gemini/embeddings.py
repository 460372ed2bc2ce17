"""Gemini embeddings through `models/{model}:batchEmbedContents`, behind the OpenAI `/v1/embeddings`.

Request: every input text becomes one `EmbedContentRequest`
`{"model": "models/<m>", "content": {"parts": [{"text": …}]}}` (Google wants each request's `model` to
name the model of the URL), `dimensions` → `outputDimensionality`. Gemini embeds text only: token arrays
(`input` as integers) are refused with a 400 naming `input`.

Answer: `{"embeddings": [{"values": [...]}, …]}` in input order → the OpenAI list; Gemini returns floats
only, so for `encoding_format: "base64"` the gateway encodes them as OpenAI does (little-endian
float32, base64). The answer's `model` is the model the client asked for. Gemini reports no token
counts for embeddings (unless a `usageMetadata.promptTokenCount` is present): the usage is None and the
pipeline bills the documented estimate, marked estimated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Mapping

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.providers.gemini import api, errors
from gateway.providers.openai_format.embeddings import embedding_list, text_inputs, wants_base64
from gateway.usage import Usage


def input_texts(value: Any) -> list[str]:
    """`input` as a list of texts; token arrays are not something Gemini takes."""
    return text_inputs(value, "Gemini")


def build_body(body: Mapping[str, Any], upstream_model: str) -> dict[str, Any]:
    resource = "models/" + api.bare_model(upstream_model)
    dimensions = body.get("dimensions")
    requests = []
    for text in input_texts(body.get("input")):
        request: dict[str, Any] = {"model": resource, "content": {"parts": [{"text": text}]}}
        if dimensions is not None:
            request["outputDimensionality"] = dimensions
        requests.append(request)
    return {"requests": requests}


@dataclass(frozen=True)
class GeminiEmbeddings:
    def build_request(self, body: dict[str, Any], upstream_model: str, endpoint: Endpoint) -> UpstreamRequest:
        payload = build_body(body, upstream_model)
        return UpstreamRequest(
            "POST",
            api.batch_embed_url(endpoint.base_url, upstream_model),
            api.headers(endpoint.api_key, stream=False),
            json.dumps(payload).encode(),
        )

    def parse_response(self, payload: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], Usage | None]:
        embeddings = payload.get("embeddings")
        if not isinstance(embeddings, list):
            raise UpstreamError(ErrorCategory.SERVER_ERROR, "Gemini embeddings answer has no embeddings list")
        vectors = []
        for item in embeddings:
            values = item.get("values") if isinstance(item, dict) else None
            if not isinstance(values, list):
                raise UpstreamError(ErrorCategory.SERVER_ERROR, "Gemini embedding without values")
            vectors.append(values)
        usage = None
        metadata = payload.get("usageMetadata")
        if isinstance(metadata, dict) and isinstance(metadata.get("promptTokenCount"), int):
            usage = Usage(input_tokens=metadata["promptTokenCount"])
        answer = embedding_list(vectors, str(body.get("model") or ""), usage, as_base64=wants_base64(body))
        return answer, usage

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> UpstreamError:
        return errors.parse_error(status, headers, body)


EMBEDDINGS = GeminiEmbeddings()
