"""Stored provider credentials on the Worker's ports: sealed with WebCrypto, kept in D1, resolved by the chat
pipeline as src/entry.py wires it (cipher=WebCryptoCipher()), and a key the emulator rejects (`rejected-…`)
marked invalid in D1 while the request is served by the env key."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest

from gateway.core import Gateway
from gateway.crypto.keyring import aad_for
from gateway.pipeline.chat import JsonResult
from gateway.ports import Ports, Timeouts
from gateway.ports.cloudflare import (D1Database, EnvMapping, FetchClient, WaitUntilBackground, WebCryptoCipher,
                                      WorkersClock)
from gateway.settings import Settings
from gateway.storage import credentials as credentials_sql
from gateway.storage import keys as keys_sql

ENV_KEY = "sk-test-openai-key"
ENCRYPTION_KEY = "k1:" + base64.b64encode(bytes(range(32))).decode()


@pytest.fixture
def worker_vars(worker_vars, emulator_url):
    return {**worker_vars, "OPENAI_API_KEY": ENV_KEY, "OPENAI_BASE_URL": emulator_url + "/v1",
            "GATEWAY_ENCRYPTION_KEY": ENCRYPTION_KEY}


@pytest.fixture
def gateway(worker) -> Gateway:
    ports = Ports(database=D1Database(worker.env.DB), http=FetchClient(), background=WaitUntilBackground(),
                  clock=WorkersClock(), cipher=WebCryptoCipher())
    return Gateway(ports, Settings.from_env(EnvMapping(worker.env)))


@pytest.fixture
def api_key(gateway) -> str:
    async def make() -> str:
        db = gateway.ports.database
        await db.query("INSERT INTO users (id, email) VALUES ('usr_w', 'w@example.com')")
        raw_key = keys_sql.generate_key()
        await keys_sql.create(db, "key_w", raw_key, {"name": "worker", "user_id": "usr_w"})
        return raw_key

    return asyncio.run(make())


async def store_user_key(gateway: Gateway, api_key_value: str) -> str:
    cred_id = "cred_" + uuid.uuid4().hex
    stored, kid = await gateway.credentials.sealer.seal(api_key_value, aad_for(cred_id, "openai", "user", "usr_w"))
    row = {"id": cred_id, "provider_id": "openai", "scope": "user", "user_id": "usr_w", "org_id": None,
           "tier_id": None, "ciphertext": stored, "encryption_key_id": kid, "masked_hint": "…"}
    await credentials_sql.replace(gateway.ports.database, row, "2026-11-27 10:00:00.000")
    gateway.credentials.invalidate()
    return cred_id


async def chat_keys(gateway: Gateway, api_key: str, emulator_url: str):
    """(ctx, the provider keys the emulator received for this request)."""
    marker = f"worker-{uuid.uuid4().hex}"
    ctx = gateway.new_context("chat")
    await gateway.authenticate(ctx, {"authorization": f"Bearer {api_key}"})
    result = await gateway.chat.complete(ctx, {"model": "openai/gpt-4o-mini",
                                               "messages": [{"role": "user", "content": marker}]})
    assert isinstance(result, JsonResult) and result.payload["choices"][0]["message"]["content"]
    response = await FetchClient().send("GET", emulator_url + "/_emulator/requests", {}, None, Timeouts())
    recorded = json.loads(await response.read())
    keys = [r["headers"]["Authorization"].removeprefix("Bearer ") for r in recorded if marker in str(r["body"])]
    return ctx, keys


def test_a_user_credential_sealed_with_webcrypto_serves_the_request(gateway, api_key, emulator_url):
    async def run():
        await store_user_key(gateway, "sk-worker-user-key-0001")
        return await chat_keys(gateway, api_key, emulator_url)

    ctx, keys = asyncio.run(run())
    assert (ctx.key_level, keys) == ("user", ["sk-worker-user-key-0001"])


def test_a_rejected_credential_is_marked_invalid_in_d1_and_env_serves(gateway, api_key, emulator_url):
    async def run():
        cred_id = await store_user_key(gateway, "rejected-worker-key-0002")
        first = await chat_keys(gateway, api_key, emulator_url)
        second = await chat_keys(gateway, api_key, emulator_url)
        return cred_id, first, second, await credentials_sql.get(gateway.ports.database, cred_id)

    cred_id, (ctx, keys), (ctx_again, keys_again), row = asyncio.run(run())
    assert (ctx.key_level, ctx.attempts, keys) == ("env", 2, ["rejected-worker-key-0002", ENV_KEY])
    assert row["status"] == "invalid" and row["last_error"].startswith("401 ")
    assert (ctx_again.key_level, keys_again) == ("env", [ENV_KEY])
