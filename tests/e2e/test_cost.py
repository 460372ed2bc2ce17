"""What a request is billed, over HTTP (docs/cost.md): a stream from the provider's own usage, or from the
documented estimator with a note when the provider sent none; the reason on every row without a plain price;
a price change that bills new rows at the new version and leaves older rows as they were.

Expected numbers come from the emulator's documented rules (scripts/emulator/openai_wire.py: prompt_tokens =
words + 4 per message, completion_tokens = the reply's words) and gpt-4o-mini's catalog price ($0.15 input,
$0.60 output per 1M tokens, OpenAI's pricing page)."""

from __future__ import annotations

import math
import uuid

import httpx
import openai
import pytest

MINI_IN, MINI_OUT = 0.15, 0.60
REPLY_PREFIX = "Emulated reply to: "


@pytest.fixture(scope="module")
def client(gateway, api_key) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)


def streamed(client, text: str, **extra) -> tuple[str, str]:
    """(request id, the streamed text) of a gpt-4o-mini stream the client reads to the end."""
    raw = client.chat.completions.with_raw_response.create(
        model="openai/gpt-4o-mini", messages=[{"role": "user", "content": text}], stream=True, **extra)
    content = "".join(chunk.choices[0].delta.content or "" for chunk in raw.parse() if chunk.choices)
    return raw.headers["x-request-id"], content


def test_a_stream_is_priced_from_the_providers_usage(gateway, client):
    # The client does not ask for usage; the gateway asks the provider anyway (stream_options.include_usage).
    text = f"price this stream {uuid.uuid4().hex[:6]}"
    request_id, content = streamed(client, text)
    row = gateway.usage_row(request_id)
    prompt, completion = len(text.split()) + 4, len((REPLY_PREFIX + text).split())
    assert content == REPLY_PREFIX + text
    assert (row["stream"], row["input_tokens"], row["output_tokens"]) == (1, prompt, completion)
    assert (row["cost_status"], row["cost_note"]) == ("priced", None)
    assert row["cost_usd"] == pytest.approx((prompt * MINI_IN + completion * MINI_OUT) / 1e6)
    assert row["price_version"] == 1


def test_a_stream_without_usage_is_estimated_and_says_how(gateway, client):
    text = f"[[emulator:fault=no-usage]] estimate this {uuid.uuid4().hex[:6]}"
    request_id, content = streamed(client, text)
    row = gateway.usage_row(request_id)
    # The documented estimator: 4 characters a token, rounded up, of the prompt's text and of what streamed.
    prompt, completion = math.ceil(len(text) / 4), math.ceil(len(content) / 4)
    assert (row["input_tokens"], row["output_tokens"]) == (prompt, completion)
    assert row["cost_status"] == "estimated"
    assert row["cost_note"] == "estimated: stream ended without usage (4 characters a token)"
    assert row["cost_usd"] == pytest.approx((prompt * MINI_IN + completion * MINI_OUT) / 1e6)


def test_rows_without_a_plain_price_say_why(gateway, client, api_key):
    # Refused before any upstream call (an unknown parameter value): a row, not sent to a provider.
    refused = httpx.post(gateway.base_url + "/v1/chat/completions", headers={"authorization": f"Bearer {api_key}"},
                         json={"model": "openai/gpt-4o-mini", "messages": "not a list"}, timeout=10)
    assert refused.status_code == 400
    row = gateway.usage_row(refused.headers["x-request-id"])
    assert (row["cost_usd"], row["cost_status"], row["cost_note"]) == (0, "none", "not sent to a provider")
    # Failed upstream: only success is billed.
    with pytest.raises(openai.RateLimitError) as raised:
        client.chat.completions.create(model="openai/gpt-4o-mini",
                                       messages=[{"role": "user", "content": "[[emulator:fault=429]] no bill"}])
    row = gateway.usage_row(raised.value.response.headers["x-request-id"])
    assert (row["cost_usd"], row["cost_status"], row["cost_note"]) == (0, "none", "failed: only success is billed")
    # A model the catalog does not list (a provider/model id still reaches the provider): unpriced, and why.
    raw = client.chat.completions.with_raw_response.create(model="openai/gpt-unlisted-model",
                                                           messages=[{"role": "user", "content": "unlisted"}])
    raw.parse()
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["cost_usd"], row["cost_status"], row["cost_note"]) == (None, "unpriced", "model not in the catalog")


def test_every_row_without_a_plain_price_has_a_note(gateway):
    """The invariant over everything the session's gateway wrote (all e2e modules share it)."""
    silent = gateway.sql("SELECT request_id, cost_status FROM usage_log "
                         "WHERE cost_status <> 'priced' AND cost_note IS NULL")
    assert silent == []
    assert gateway.sql("SELECT COUNT(*) AS n FROM usage_log WHERE cost_usd IS NULL AND cost_note IS NULL") == [{"n": 0}]


def test_a_price_change_bills_new_rows_at_the_new_version_and_keeps_older_rows(gateway, client):
    model = "openai/gpt-4.1-nano"
    (current,) = gateway.sql("SELECT input_usd_per_mtok AS i, output_usd_per_mtok AS o, price_version AS v "
                             "FROM models WHERE id = ?", model)

    def call() -> dict:
        raw = client.chat.completions.with_raw_response.create(
            model=model, messages=[{"role": "user", "content": f"version {uuid.uuid4().hex[:6]}"}])
        raw.parse()
        return gateway.usage_row(raw.headers["x-request-id"])

    before = call()
    assert before["price_version"] == current["v"]
    assert before["cost_usd"] == pytest.approx((before["input_tokens"] * current["i"]
                                                + before["output_tokens"] * current["o"]) / 1e6)
    with gateway.admin() as admin:
        patched = admin.patch(f"/admin/models/{model}", json={"input_usd_per_mtok": 1.0, "output_usd_per_mtok": 4.0})
    assert patched.status_code == 200, patched.text
    assert patched.json()["price_version"] == current["v"] + 1
    try:
        # The catalog cache is invalidated by the admin write: the next request is billed at the new price.
        after = call()
        assert after["price_version"] == current["v"] + 1
        assert after["cost_usd"] == pytest.approx((after["input_tokens"] * 1.0 + after["output_tokens"] * 4.0) / 1e6)
        (kept,) = gateway.sql("SELECT cost_usd, price_version FROM usage_log WHERE request_id = ?",
                              before["request_id"])
        assert kept == {"cost_usd": pytest.approx(before["cost_usd"]), "price_version": current["v"]}
        history = gateway.sql("SELECT price_version, source FROM model_price_history WHERE model_id = ? "
                              "ORDER BY price_version", model)
        assert history[-1] == {"price_version": current["v"] + 1, "source": "admin"}
    finally:
        with gateway.admin() as admin:  # the shared gateway's other tests expect the seeded price
            admin.patch(f"/admin/models/{model}", json={"input_usd_per_mtok": current["i"],
                                                          "output_usd_per_mtok": current["o"]})


# Workers AI: 10,000 neurons a day free, then $0.011 per 1,000 (developers.cloudflare.com/workers-ai/platform/
# pricing); Llama 4 Scout uses 24,545 neurons per 1M input tokens and 77,273 per 1M output tokens.
SCOUT = "workers-ai/@cf/meta/llama-4-scout-17b-16e-instruct"
USD_PER_NEURON = 0.011 / 1000


def test_workers_ai_is_free_within_the_allocation_then_billed_per_neuron(emulator, tmp_path_factory):
    """A gateway with a 100-neuron allocation (paid use on): a call partly within what is left is billed for
    the rest, the next wholly; the key's spend counter holds only what was billed."""
    from datetime import datetime, timezone

    from tests.conftest import GatewayServer, gateway_config

    server = GatewayServer(gateway_config(emulator.base_url, WORKERS_AI_DAILY_NEURONS="100", WORKERS_AI_PAID="true"),
                           tmp_path_factory.mktemp("wai-cost") / "gateway.sqlite3").start()
    try:
        key = server.create_key(name="wai-cost")
        client = openai.OpenAI(base_url=server.base_url + "/v1", api_key=key, max_retries=0)
        day = datetime.now(timezone.utc).strftime("%Y-%m-%d")
        text = " ".join(f"w{i}" for i in range(40))  # 44 prompt tokens, 43 reply words (the emulator's rule)
        # 1.080 + 3.323 = 4.403 neurons; the row keeps neurons to 4 decimals, and bills those.
        neurons = round(((40 + 4) * 24_545 + (40 + 3) * 77_273) / 1e6, 4)
        server.sql("INSERT INTO neuron_usage (day, model_id, neurons, requests) VALUES (?, 'workers-ai/@cf/other', ?, 1)",
                   day, 100 - 2.0)  # 2 neurons left today

        def call() -> dict:
            raw = client.chat.completions.with_raw_response.create(model=SCOUT, messages=[{"role": "user", "content": text}])
            raw.parse()
            return server.usage_row(raw.headers["x-request-id"])

        partly, wholly = call(), call()
        assert partly["neurons"] == pytest.approx(neurons, abs=1e-4)
        assert (partly["cost_status"], partly["cost_note"]) == (
            "priced", f"2 of {neurons:.6g} neurons free (Workers AI daily allocation)")
        assert partly["cost_usd"] == pytest.approx((neurons - 2) * USD_PER_NEURON, rel=1e-6)
        assert (wholly["cost_status"], wholly["cost_note"]) == ("priced", None)
        assert wholly["cost_usd"] == pytest.approx(neurons * USD_PER_NEURON, rel=1e-6)
        (spent,) = server.sql("SELECT spent_usd FROM spend_counters WHERE subject = ? AND period = ?",
                              f"key:{partly['key_id']}", day)
        assert spent["spent_usd"] == pytest.approx((2 * neurons - 2) * USD_PER_NEURON, rel=1e-6)
    finally:
        server.stop()
