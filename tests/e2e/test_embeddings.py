"""The official OpenAI SDK against POST /v1/embeddings: OpenAI, Gemini (`:batchEmbedContents`), Together
AI and a custom OpenAI-compatible server, through the emulator; usage rows; errors."""

from __future__ import annotations

import base64
import struct

import httpx
import openai
import pytest

from tests.conftest import GatewayServer, gateway_config, provider_key

# Catalog prices, USD per million input tokens (migrations/0002_..., 0006_embedding_models.sql).
PRICES = {
    "openai/text-embedding-3-small": 0.02,
    "gemini/gemini-embedding-001": 0.15,
    "together/BAAI/bge-large-en-v1.5": 0.016,
}
CUSTOM_KEY = "embed-box-secret"


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    """A gateway of its own, so the custom server's key (EMBED_BOX_API_KEY) is in its configuration."""
    config = gateway_config(emulator.base_url, EMBED_BOX_API_KEY=CUSTOM_KEY)
    running = GatewayServer(config, tmp_path_factory.mktemp("embeddings") / "gateway.sqlite3").start()
    with running.admin() as admin:
        created = admin.post("/admin/providers", json={"id": "embed-box", "base_url": emulator.base_url + "/v1"})
        assert created.status_code == 201, created.text
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=server.create_key(name="embeddings"), max_retries=0)


def emulator_vectors(emulator, inputs, dimensions: int | None = None) -> list[list[float]]:
    """What the emulator answers for these inputs, asked directly on its OpenAI route (its documented
    rule: Gemini's vectors are the same as OpenAI's for the same text and dimensions)."""
    body = {"model": "text-embedding-3-small", "input": inputs}
    if dimensions:
        body["dimensions"] = dimensions
    answer = httpx.post(emulator.base_url + "/v1/embeddings", json=body, headers={"authorization": "Bearer k"}).json()
    return [item["embedding"] for item in answer["data"]]


def decode(encoded: str) -> list[float]:
    raw = base64.b64decode(encoded)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


def last_sent(emulator) -> dict:
    return httpx.get(emulator.base_url + "/_emulator/requests").json()[-1]


@pytest.mark.parametrize("model", ["openai/text-embedding-3-small", "gemini/gemini-embedding-001",
                                   "together/BAAI/bge-large-en-v1.5", "embed-box/nomic-embed-text"])
def test_float_batched_in_order(client, emulator, model):
    inputs = ["the first text", "a second one", "and the third here"]
    raw = client.embeddings.with_raw_response.create(model=model, input=inputs, encoding_format="float")
    answer = raw.parse()
    assert [item.index for item in answer.data] == [0, 1, 2]
    assert [item.embedding for item in answer.data] == emulator_vectors(emulator, inputs)
    assert raw.headers["x-gateway-model"] == model


@pytest.mark.parametrize("model", ["openai/text-embedding-3-small", "gemini/gemini-embedding-001",
                                   "together/BAAI/bge-large-en-v1.5", "embed-box/nomic-embed-text"])
def test_base64_decodes_to_the_float_vectors(client, emulator, model):
    text = "encode me as base64"
    # The SDK's own default is base64 (it decodes it itself); ask over plain HTTP to see the string.
    response = httpx.post(str(client.base_url) + "embeddings", json={"model": model, "input": text, "encoding_format": "base64"},
                          headers={"authorization": f"Bearer {client.api_key}"})
    assert response.status_code == 200, response.text
    encoded = response.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    assert decode(encoded) == emulator_vectors(emulator, [text])[0]
    # And through the SDK, which asks for base64 by default and decodes it.
    assert client.embeddings.create(model=model, input=text).data[0].embedding == pytest.approx(decode(encoded))


@pytest.mark.parametrize("model", ["openai/text-embedding-3-small", "gemini/gemini-embedding-001"])
def test_dimensions(client, emulator, model):
    answer = client.embeddings.create(model=model, input="short vector please", dimensions=5, encoding_format="float")
    assert len(answer.data[0].embedding) == 5
    assert answer.data[0].embedding == emulator_vectors(emulator, ["short vector please"], 5)[0]


def test_openai_request_passes_through(client, emulator):
    client.embeddings.create(model="text-embedding-3-small", input=[[1, 2, 3], [4, 5]], encoding_format="float")
    sent = last_sent(emulator)
    assert sent["path"] == "/v1/embeddings"
    assert sent["body"]["input"] == [[1, 2, 3], [4, 5]]  # token arrays passed through
    assert sent["body"]["model"] == "text-embedding-3-small"


def test_gemini_request_is_batch_embed_contents(client, emulator):
    client.embeddings.create(model="gemini/gemini-embedding-001", input=["one", "two"], dimensions=7)
    sent = last_sent(emulator)
    assert sent["path"] == "/gemini/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert sent["headers"]["x-goog-api-key"] == provider_key("GEMINI")
    assert sent["body"] == {"requests": [
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "one"}]}, "outputDimensionality": 7},
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "two"}]}, "outputDimensionality": 7},
    ]}


def test_gemini_refuses_token_arrays(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="gemini/gemini-embedding-001", input=[1, 2, 3])
    assert caught.value.body["param"] == "input"


def test_together_and_custom_paths_and_keys(client, emulator):
    client.embeddings.create(model="together/BAAI/bge-large-en-v1.5", input="x y")
    sent = last_sent(emulator)
    assert sent["path"] == "/together/v1/embeddings"
    assert sent["headers"]["Authorization"] == f"Bearer {provider_key('TOGETHER')}"
    client.embeddings.create(model="embed-box/nomic-embed-text", input="x y")
    sent = last_sent(emulator)
    assert sent["path"] == "/v1/embeddings" and sent["body"]["model"] == "nomic-embed-text"
    assert sent["headers"]["Authorization"] == f"Bearer {CUSTOM_KEY}"


@pytest.mark.parametrize("model", ["openai/text-embedding-3-small", "together/BAAI/bge-large-en-v1.5"])
def test_usage_row_from_reported_tokens(client, server, model):
    inputs = ["four words in here", "and three more"]  # the emulator counts words: 7
    raw = client.embeddings.with_raw_response.create(model=model, input=inputs)
    assert raw.parse().usage.prompt_tokens == 7
    row = server.usage_row(raw.headers["x-request-id"])
    assert (row["endpoint"], row["status"], row["model_id"]) == ("embeddings", "success", model)
    assert (row["input_tokens"], row["output_tokens"]) == (7, 0)
    assert row["cost_usd"] == pytest.approx(7 * PRICES[model] / 1_000_000)
    assert row["cost_status"] == "priced"


def test_gemini_usage_is_estimated(client, server):
    inputs = ["abcdefgh", "abcde"]  # 4 characters a token, rounded up: 2 + 2
    raw = client.embeddings.with_raw_response.create(model="gemini/gemini-embedding-001", input=inputs)
    assert raw.parse().usage.prompt_tokens == 4
    row = server.usage_row(raw.headers["x-request-id"])
    assert row["input_tokens"] == 4
    assert row["cost_usd"] == pytest.approx(4 * PRICES["gemini/gemini-embedding-001"] / 1_000_000)
    assert row["cost_status"] == "estimated"


def test_custom_server_model_is_unpriced(client, server):
    raw = client.embeddings.with_raw_response.create(model="embed-box/nomic-embed-text", input="a b")
    row = server.usage_row(raw.headers["x-request-id"])
    assert row["input_tokens"] == 2 and row["cost_status"] == "unpriced"


def test_chat_model_for_embeddings_is_400_naming_model(client, server):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="openai/gpt-4o-mini", input="hello")
    assert caught.value.body["param"] == "model"
    assert "chat model" in caught.value.body["message"]
    row = server.usage_row(caught.value.response.headers["x-request-id"])
    assert (row["status"], row["http_status"]) == ("error", 400)


def test_embedding_model_for_chat_is_400_naming_model(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="openai/text-embedding-3-small", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body["param"] == "model"
    assert "embedding model" in caught.value.body["message"]


@pytest.mark.parametrize("bad", [[], "", ["ok", ""], [1, "a"]])
def test_malformed_input_is_400_naming_input(client, bad):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="openai/text-embedding-3-small", input=bad)
    assert caught.value.body["param"] == "input"


def test_bad_dimensions_and_encoding_are_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="openai/text-embedding-3-small", input="x", dimensions=0)
    assert caught.value.body["param"] == "dimensions"
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="openai/text-embedding-3-small", input="x", encoding_format="hex")  # type: ignore[arg-type]
    assert caught.value.body["param"] == "encoding_format"


def test_no_key_is_401(server):
    response = httpx.post(server.base_url + "/v1/embeddings", json={"model": "text-embedding-3-small", "input": "x"})
    assert response.status_code == 401


@pytest.mark.parametrize("model", ["openai/text-embedding-3-small", "gemini/gemini-embedding-001",
                                   "together/BAAI/bge-large-en-v1.5"])
def test_upstream_429_is_429(client, server, model):
    with pytest.raises(openai.RateLimitError) as caught:
        client.embeddings.create(model=model, input="[[emulator:fault=429]] please")
    assert caught.value.status_code == 429
    row = server.usage_row(caught.value.response.headers["x-request-id"])
    assert (row["error_type"], row["http_status"]) == ("rate_limit", 429)


def test_openapi_documents_the_route(server):
    schema = httpx.get(server.base_url + "/openapi.json").json()
    assert schema["paths"]["/v1/embeddings"]["post"]["operationId"] == "create_embeddings"
