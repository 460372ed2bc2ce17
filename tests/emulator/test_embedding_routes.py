"""The emulator's embeddings routes beyond OpenAI's: Together AI's path and Gemini's `:batchEmbedContents`
(vectors as documented in gemini_wire: the OpenAI route's vector for the same text and dimensions)."""

from __future__ import annotations

import httpx
import pytest

from scripts.emulator import EmulatorThread

BATCH = "/gemini/v1beta/models/gemini-embedding-001:batchEmbedContents"


@pytest.fixture(scope="module")
def base_url():
    with EmulatorThread() as running:
        yield running.base_url


def openai_vectors(base_url: str, texts: list[str], dims: int | None = None) -> list[list[float]]:
    body: dict = {"model": "text-embedding-3-small", "input": texts, "encoding_format": "float"}
    if dims:
        body["dimensions"] = dims
    answer = httpx.post(base_url + "/v1/embeddings", json=body, headers={"authorization": "Bearer k"}).json()
    return [item["embedding"] for item in answer["data"]]


def batch(texts: list[str], dims: int | None = None, model: str = "models/gemini-embedding-001") -> dict:
    requests = []
    for text in texts:
        request: dict = {"model": model, "content": {"parts": [{"text": text}]}}
        if dims:
            request["outputDimensionality"] = dims
        requests.append(request)
    return {"requests": requests}


def test_gemini_batch_embed_vectors(base_url):
    texts = ["first text", "second"]
    response = httpx.post(base_url + BATCH, json=batch(texts, 6), headers={"x-goog-api-key": "k"})
    assert response.status_code == 200
    assert [e["values"] for e in response.json()["embeddings"]] == openai_vectors(base_url, texts, 6)
    default = httpx.post(base_url + BATCH, json=batch(["x"]), headers={"x-goog-api-key": "k"}).json()
    assert len(default["embeddings"][0]["values"]) == 8


def test_gemini_batch_embed_errors(base_url):
    assert httpx.post(base_url + BATCH, json=batch(["x"])).status_code == 403
    mismatch = httpx.post(base_url + BATCH, json=batch(["x"], model="models/other"), headers={"x-goog-api-key": "k"})
    assert mismatch.status_code == 400 and mismatch.json()["error"]["status"] == "INVALID_ARGUMENT"
    empty = httpx.post(base_url + BATCH, json={"requests": []}, headers={"x-goog-api-key": "k"})
    assert empty.status_code == 400
    limited = httpx.post(base_url + BATCH, json=batch(["[[emulator:fault=429]] x"]), headers={"x-goog-api-key": "k"})
    assert limited.status_code == 429 and limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_together_embeddings_path(base_url):
    response = httpx.post(base_url + "/together/v1/embeddings", headers={"authorization": "Bearer k"},
                          json={"model": "BAAI/bge-large-en-v1.5", "input": ["a b"], "encoding_format": "float"})
    assert response.status_code == 200
    assert response.json()["data"][0]["embedding"] == openai_vectors(base_url, ["a b"])[0]
    assert response.json()["usage"]["prompt_tokens"] == 2
