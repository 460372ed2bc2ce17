"""The embeddings pipeline on the Cloudflare ports, as src/entry.py builds them: D1 for keys, the catalog
and usage rows; `fetch` to the provider emulator (OpenAI's route and Gemini's `:batchEmbedContents`);
usage written through `waitUntil`. The pydantic validation of the boundary is left out (see
test_chat_on_cloudflare_ports.py)."""

from __future__ import annotations

import asyncio

import pytest

from gateway.core import Gateway
from gateway.errors import GatewayError, InvalidRequestError
from gateway.ports import Ports
from gateway.ports.cloudflare import D1Database, EnvMapping, FetchClient, WaitUntilBackground, WorkersClock
from gateway.providers.openai_format.embeddings import base64_to_floats
from gateway.settings import Settings
from gateway.storage import keys as keys_sql
from gateway.storage import usage as usage_sql


@pytest.fixture
def worker_vars(worker_vars, emulator_url):
    return {**worker_vars, "OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": emulator_url + "/v1",
            "GEMINI_API_KEY": "gm-test", "GEMINI_BASE_URL": emulator_url + "/gemini"}


@pytest.fixture
def gateway(worker) -> Gateway:
    ports = Ports(database=D1Database(worker.env.DB), http=FetchClient(), background=WaitUntilBackground(),
                  clock=WorkersClock())
    return Gateway(ports, Settings.from_env(EnvMapping(worker.env)))


@pytest.fixture
def api_key(gateway) -> str:
    raw_key = keys_sql.generate_key()
    asyncio.run(keys_sql.create(gateway.ports.database, "key_cf_emb", raw_key, {"name": "pyodide"}))
    return raw_key


async def embed(gateway: Gateway, api_key: str, body: dict):
    ctx = gateway.new_context("embeddings")
    try:
        await gateway.authenticate(ctx, {"authorization": f"Bearer {api_key}"})
        return ctx, await gateway.embeddings.create(ctx, body)
    except GatewayError as error:
        gateway.embeddings.fail(ctx, error)
        raise


def usage_rows(gateway: Gateway, wait_until) -> dict[str, dict]:
    assert all(outcome == "fulfilled" for outcome in wait_until.drain())
    rows = asyncio.run(usage_sql.newest(gateway.ports.database, 50))
    return {row["request_id"]: row for row in rows}


def test_openai_and_gemini_embeddings_agree_and_are_billed(gateway, api_key, wait_until):
    texts = ["one text", "another text here"]
    ctx_o, openai_answer = asyncio.run(embed(gateway, api_key, {
        "model": "openai/text-embedding-3-small", "input": texts, "encoding_format": "float", "dimensions": 4}))
    ctx_g, gemini_answer = asyncio.run(embed(gateway, api_key, {
        "model": "gemini/gemini-embedding-001", "input": texts, "encoding_format": "base64", "dimensions": 4}))
    floats = [item["embedding"] for item in openai_answer.payload["data"]]
    assert len(floats) == 2 and all(len(v) == 4 for v in floats)
    assert [base64_to_floats(item["embedding"]) for item in gemini_answer.payload["data"]] == floats
    rows = usage_rows(gateway, wait_until)
    assert (rows[ctx_o.request_id]["input_tokens"], rows[ctx_o.request_id]["cost_status"]) == (5, "priced")
    assert rows[ctx_g.request_id]["cost_status"] == "estimated"
    assert rows[ctx_g.request_id]["endpoint"] == "embeddings"


def test_a_chat_model_is_refused(gateway, api_key, wait_until):
    with pytest.raises(InvalidRequestError) as caught:
        asyncio.run(embed(gateway, api_key, {"model": "openai/gpt-4o-mini", "input": "x"}))
    assert caught.value.param == "model"
