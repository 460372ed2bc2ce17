"""Streams that go wrong upstream or at the client: what the client sees and what gets billed."""

from __future__ import annotations

import json
import httpx
import openai
import pytest


def stream_body(text: str, **extra) -> dict:
    return {"model": "openai/gpt-4o-mini", "stream": True, "messages": [{"role": "user", "content": text}], **extra}


def read_events(response: httpx.Response) -> list[str]:
    return [line[len("data: "):] for line in response.iter_lines() if line.startswith("data: ")]


def open_stream(gateway, api_key, body):
    return httpx.stream(
        "POST", gateway.base_url + "/v1/chat/completions", json=body,
        headers={"authorization": f"Bearer {api_key}"}, timeout=10,
    )


def test_stream_cut_midway_ends_with_an_error_the_sdk_raises(gateway, api_key):
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(**stream_body("[[emulator:fault=cut-stream]] a b c d e f g"))
    received = []
    with pytest.raises(openai.APIError):
        for chunk in raw.parse():
            received.append(chunk)
    assert received, "the chunks before the break reach the client"
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["status"] == "error" and row["error_type"] == "server_error"
    # The tokens it produced stay on the row for the record; only success is billed (docs/fallbacks.md).
    assert row["output_tokens"] > 0 and (row["cost_usd"], row["cost_status"]) == (0, "none")
    assert row["cost_note"] == "failed: only success is billed"


def test_malformed_upstream_chunk_is_skipped(gateway, api_key):
    with open_stream(gateway, api_key, stream_body("[[emulator:fault=malformed-chunk]] one two three")) as response:
        events = read_events(response)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(event) for event in events[:-1]]  # every event the client gets is valid JSON
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert text == "Emulated reply to: one two three"


def test_upstream_stream_without_done_still_ends_with_done(gateway, api_key):
    with open_stream(gateway, api_key, stream_body("[[emulator:fault=no-done]] finish please")) as response:
        events = read_events(response)
    assert events[-1] == "[DONE]"
    assert json.loads(events[-2])["choices"][0]["finish_reason"] == "stop"


def test_stream_error_before_first_byte_is_a_plain_http_error(gateway, api_key):
    with open_stream(gateway, api_key, stream_body("[[emulator:fault=503]]")) as response:
        response.read()
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_unavailable"


def test_client_disconnect_midway_is_accounted(gateway, api_key):
    body = stream_body("[[emulator:chunk_interval_ms=100]] " + " ".join(f"w{i}" for i in range(40)))
    with open_stream(gateway, api_key, body) as response:
        request_id = response.headers["x-request-id"]
        lines = response.iter_lines()
        first_content = next(line for line in lines if '"content":"' in line and '"content":""' not in line)
        assert first_content
    # The client closed the connection after the first word; the rest of the stream is never sent.
    row = gateway.usage_row(request_id, timeout=10)
    assert row["status"] == "cancelled"
    assert 0 < row["output_tokens"] < 40
    assert row["cost_status"] == "estimated" and row["cost_usd"] > 0
    assert row["cost_note"] == "estimated: stream cancelled by the client before its usage (4 characters a token)"
    # Billed for what was produced: the documented estimator (4 characters a token, rounded up) of the prompt
    # and of the words that streamed, at gpt-4o-mini's $0.15 / $0.60 per 1M tokens.
    assert row["input_tokens"] == -(-len(body["messages"][0]["content"]) // 4)
    assert row["cost_usd"] == pytest.approx((row["input_tokens"] * 0.15 + row["output_tokens"] * 0.60) / 1e6)
    assert row["latency_ms"] < 40 * 100  # it stopped early instead of waiting for the whole stream
