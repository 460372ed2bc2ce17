"""Embeddings transforms: the shared OpenAI-format passthrough and Gemini's `:batchEmbedContents`, the
base64 encoding, the usage estimate and the modality check. Plain Python (these also run inside Pyodide)."""

from __future__ import annotations

import base64
import json
import struct

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.pipeline.catalog import require_modality
from gateway.pipeline.context import Target
from gateway.pipeline.embeddings import estimate_usage
from gateway.providers import registry
from gateway.providers.base import Endpoint
from gateway.providers.gemini.embeddings import EMBEDDINGS as GEMINI
from gateway.providers.openai_format.embeddings import OpenAIFormatEmbeddings, base64_to_floats, floats_to_base64
from gateway.usage import Usage

OPENAI = OpenAIFormatEmbeddings()
GEMINI_ENDPOINT = Endpoint(base_url="https://generativelanguage.googleapis.com", api_key="AIza-test")
OPENAI_ENDPOINT = Endpoint(base_url="https://api.openai.com/v1/", api_key="sk-test")


def test_registry_offers_embeddings_where_expected():
    offered = {m.name for m in registry.all_manifests() if m.embeddings is not None}
    assert {"openai", "gemini", "together", "openai_compatible"} <= offered
    assert registry.get("anthropic").embeddings is None


def test_base64_is_little_endian_float32():
    vector = [0.5, -1.25, 3.0]
    encoded = floats_to_base64(vector)
    assert base64.b64decode(encoded) == struct.pack("<3f", *vector)
    assert base64_to_floats(encoded) == vector


def test_openai_format_request_passes_through():
    body = {"model": "openai/text-embedding-3-small", "input": [[1, 2], [3]], "encoding_format": "base64",
            "dimensions": 64, "user": "u1"}
    request = OPENAI.build_request(body, "text-embedding-3-small", OPENAI_ENDPOINT)
    assert request.url == "https://api.openai.com/v1/embeddings"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert json.loads(request.body) == {**body, "model": "text-embedding-3-small"}


def test_openai_format_answer_and_usage():
    payload = {"object": "list", "model": "m", "usage": {"prompt_tokens": 5, "total_tokens": 5},
               "data": [{"object": "embedding", "index": 0, "embedding": "AAAAPw=="}]}
    answer, usage = OPENAI.parse_response(payload, {"encoding_format": "base64"})
    assert answer["data"][0]["embedding"] == "AAAAPw=="
    assert usage == Usage(input_tokens=5)


def test_openai_format_encodes_floats_a_server_sent_for_base64():
    payload = {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.5, 2.0]}]}
    answer, usage = OPENAI.parse_response(payload, {"encoding_format": "base64"})
    assert base64_to_floats(answer["data"][0]["embedding"]) == [0.5, 2.0]
    assert usage is None


def test_openai_format_answer_without_data_is_a_server_error():
    with pytest.raises(UpstreamError) as caught:
        OPENAI.parse_response({"object": "list"}, {})
    assert caught.value.category is ErrorCategory.SERVER_ERROR


def test_gemini_request_is_a_batch():
    body = {"model": "gemini/gemini-embedding-001", "input": ["a", "b c"], "dimensions": 768}
    request = GEMINI.build_request(body, "gemini-embedding-001", GEMINI_ENDPOINT)
    assert request.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert request.headers["x-goog-api-key"] == "AIza-test"
    assert "key=" not in request.url
    assert json.loads(request.body) == {"requests": [
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "a"}]}, "outputDimensionality": 768},
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "b c"}]}, "outputDimensionality": 768},
    ]}


def test_gemini_single_string_and_versioned_base():
    endpoint = Endpoint(base_url="http://127.0.0.1:9/gemini/v1beta/", api_key="k")
    request = GEMINI.build_request({"model": "x", "input": "solo"}, "models/text-embedding-004", endpoint)
    assert request.url == "http://127.0.0.1:9/gemini/v1beta/models/text-embedding-004:batchEmbedContents"
    assert json.loads(request.body) == {"requests": [
        {"model": "models/text-embedding-004", "content": {"parts": [{"text": "solo"}]}}]}


@pytest.mark.parametrize("value", [[1, 2, 3], [[1, 2], [3]]])
def test_gemini_refuses_token_arrays(value):
    with pytest.raises(InvalidRequestError) as caught:
        GEMINI.build_request({"model": "m", "input": value}, "gemini-embedding-001", GEMINI_ENDPOINT)
    assert caught.value.param == "input"


def test_gemini_answer_to_openai_list_float_and_base64():
    payload = {"embeddings": [{"values": [0.25, -0.5]}, {"values": [1.0, 0.0]}]}
    answer, usage = GEMINI.parse_response(payload, {"model": "gemini/gemini-embedding-001"})
    assert usage is None  # Gemini reports no counts: the pipeline estimates
    assert answer["object"] == "list" and answer["model"] == "gemini/gemini-embedding-001"
    assert answer["data"] == [{"object": "embedding", "index": 0, "embedding": [0.25, -0.5]},
                              {"object": "embedding", "index": 1, "embedding": [1.0, 0.0]}]
    answer, _ = GEMINI.parse_response(payload, {"model": "m", "encoding_format": "base64"})
    assert [base64_to_floats(item["embedding"]) for item in answer["data"]] == [[0.25, -0.5], [1.0, 0.0]]


def test_gemini_usage_metadata_is_read_when_present():
    payload = {"embeddings": [{"values": [0.1]}], "usageMetadata": {"promptTokenCount": 9}}
    answer, usage = GEMINI.parse_response(payload, {"model": "m"})
    assert usage == Usage(input_tokens=9) and answer["usage"]["prompt_tokens"] == 9


def test_gemini_malformed_answer_and_errors():
    with pytest.raises(UpstreamError):
        GEMINI.parse_response({"embeddings": [{}]}, {"model": "m"})
    body = json.dumps({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}})
    error = GEMINI.parse_error(429, {"retry-after": "3"}, body.encode())
    assert error.category is ErrorCategory.RATE_LIMIT and error.status == 429


def test_estimate_usage():
    assert estimate_usage("abcdefghi") == Usage(input_tokens=3)
    assert estimate_usage(["abcd", "ab"]) == Usage(input_tokens=2)
    assert estimate_usage([1, 2, 3]) == Usage(input_tokens=3)
    assert estimate_usage([[1, 2], [3]]) == Usage(input_tokens=3)


def test_modality_check_names_model():
    chat_model = Target("openai", "openai", "gpt-4o-mini", "openai/gpt-4o-mini", {"modality": "chat"})
    with pytest.raises(InvalidRequestError) as caught:
        require_modality(chat_model, "embedding", "embeddings")
    assert caught.value.param == "model" and "chat model" in caught.value.message
    require_modality(chat_model, "chat", "chat")
    unlisted = Target("openai", "openai", "new-model", "openai/new-model", None)
    require_modality(unlisted, "embedding", "embeddings")  # not in the catalog: passed through
