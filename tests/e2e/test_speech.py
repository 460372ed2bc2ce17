"""The official OpenAI SDK against POST /v1/audio/speech: OpenAI (`/v1/audio/speech`) and ElevenLabs
(`/v1/text-to-speech/{voice_id}/stream`) through the emulator; audio bytes, content types, streaming
chunk by chunk, usage rows (characters and cost), validation and upstream errors."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from scripts.emulator.audio_wire import audio_bytes
from tests.conftest import GatewayServer, gateway_config, provider_key

# Catalog prices, USD per million characters (migrations/0008_speech_models.sql).
PRICES = {
    "openai/tts-1": 15.0,
    "openai/tts-1-hd": 30.0,
    "openai/gpt-4o-mini-tts": 15.0,
    "elevenlabs/eleven_multilingual_v2": 100.0,
    "elevenlabs/eleven_flash_v2_5": 50.0,
}
OPENAI_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac",
                "wav": "audio/wav", "pcm": "audio/pcm"}
ELEVEN_TYPES = {"mp3": "audio/mpeg", "opus": "audio/opus", "wav": "audio/wav", "pcm": "audio/pcm"}


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    running = GatewayServer(gateway_config(emulator.base_url), tmp_path_factory.mktemp("speech") / "gateway.sqlite3").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=server.create_key(name="speech"), max_retries=0)


def expected(model: str, text: str, fmt: str, voice: str) -> bytes:
    """The emulator's documented rule; ElevenLabs names the format by its codec (same as OpenAI's here)."""
    return audio_bytes(text, fmt, voice)


def last_sent(emulator) -> dict:
    return httpx.get(emulator.base_url + "/_emulator/requests").json()[-1]


@pytest.mark.parametrize("model", ["openai/tts-1", "openai/gpt-4o-mini-tts", "elevenlabs/eleven_multilingual_v2"])
def test_audio_bytes_are_the_providers(client, model):
    text = "The quick brown fox jumps over the lazy dog."
    raw = client.audio.speech.with_raw_response.create(model=model, input=text, voice="alloy")
    assert raw.headers["content-type"] == "audio/mpeg"
    assert raw.headers["x-gateway-model"] == model
    assert raw.parse().content == expected(model, text, "mp3", "alloy")


@pytest.mark.parametrize("fmt", list(OPENAI_TYPES))
def test_openai_content_types(client, fmt):
    raw = client.audio.speech.with_raw_response.create(model="openai/tts-1-hd", input="format check",
                                                        voice="nova", response_format=fmt)
    assert raw.headers["content-type"] == OPENAI_TYPES[fmt]
    assert raw.parse().content == audio_bytes("format check", fmt, "nova")


@pytest.mark.parametrize("fmt", list(ELEVEN_TYPES))
def test_elevenlabs_content_types(client, fmt):
    raw = client.audio.speech.with_raw_response.create(model="elevenlabs/eleven_flash_v2_5", input="format check",
                                                        voice="JBFqnCBsd6RMkjVDRZzb", response_format=fmt)
    assert raw.headers["content-type"] == ELEVEN_TYPES[fmt]
    assert raw.parse().content == audio_bytes("format check", fmt, "JBFqnCBsd6RMkjVDRZzb")


def test_openai_request_reached_the_provider(client, emulator):
    client.audio.speech.create(model="tts-1", input="hello there", voice="echo", speed=1.25,
                               instructions="whisper", response_format="wav")
    sent = last_sent(emulator)
    assert sent["path"] == "/v1/audio/speech"
    assert sent["body"] == {"model": "tts-1", "input": "hello there", "voice": "echo", "speed": 1.25,
                            "instructions": "whisper", "response_format": "wav"}
    assert sent["headers"]["Authorization"] == "Bearer sk-test-openai-key"


def test_elevenlabs_request_reached_the_provider(client, emulator):
    client.audio.speech.create(model="elevenlabs/eleven_multilingual_v2", input="bonjour", voice="21m00Tcm4TlvDq8ikWAM",
                               speed=0.9, instructions="dropped", response_format="pcm")
    sent = last_sent(emulator)
    assert sent["path"] == "/elevenlabs/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM/stream"
    assert sent["query"] == "output_format=pcm_24000"
    assert sent["headers"]["xi-api-key"] == provider_key("ELEVENLABS")
    assert sent["body"] == {"text": "bonjour", "model_id": "eleven_multilingual_v2", "voice_settings": {"speed": 0.9}}


@pytest.mark.parametrize("model", ["openai/tts-1", "elevenlabs/eleven_flash_v2_5"])
def test_streamed_chunk_by_chunk(client, server, model):
    # 100 characters → 6,400 bytes of audio (+ header) → 7 emulator chunks, 80 ms apart.
    text = "[[emulator:chunk_interval_ms=80]] " + "x" * (100 - len("[[emulator:chunk_interval_ms=80]] "))
    arrivals, received = [], []
    started = time.monotonic()
    with client.audio.speech.with_streaming_response.create(model=model, input=text, voice="alloy") as response:
        assert response.headers["content-type"] == "audio/mpeg"
        for chunk in response.iter_bytes():
            arrivals.append(time.monotonic() - started)
            received.append(chunk)
        request_id = response.headers["x-request-id"]
    assert b"".join(received) == audio_bytes(text, "mp3", "alloy")
    assert len(received) >= 3
    assert arrivals[-1] - arrivals[0] >= 0.3  # the first bytes came well before the end: not buffered
    row = server.usage_row(request_id)
    assert row["stream"] == 1 and row["status"] == "success"
    assert row["ttft_ms"] is not None and row["ttft_ms"] < row["latency_ms"]


@pytest.mark.parametrize("model", list(PRICES))
def test_usage_row_characters_and_cost(client, server, model):
    text = "Twenty-six characters ok!"
    raw = client.audio.speech.with_raw_response.create(model=model, input=text, voice="alloy")
    raw.parse().read()
    row = server.usage_row(raw.headers["x-request-id"])
    assert row["endpoint"] == "speech"
    assert row["model_id"] == model
    assert json.loads(row["units"]) == {"characters": len(text)}
    assert row["cost_usd"] == pytest.approx(len(text) * PRICES[model] / 1_000_000)
    assert row["cost_status"] == "priced"
    assert (row["input_tokens"], row["output_tokens"]) == (0, 0)


@pytest.mark.parametrize("body, param", [
    ({"model": "tts-1", "voice": "alloy"}, "input"),
    ({"model": "tts-1", "input": "", "voice": "alloy"}, "input"),
    ({"model": "tts-1", "input": "x" * 4097, "voice": "alloy"}, "input"),
    ({"model": "tts-1", "input": "hi"}, "voice"),
    ({"model": "tts-1", "input": "hi", "voice": "alloy", "response_format": "ogg"}, "response_format"),
    ({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 4.5}, "speed"),
    ({"model": "tts-1", "input": "hi", "voice": "alloy", "speed": 0.1}, "speed"),
    ({"input": "hi", "voice": "alloy"}, "model"),
])
def test_validation_400_names_the_field(client, body, param):
    response = httpx.post(str(client.base_url) + "audio/speech", json=body,
                          headers={"authorization": f"Bearer {client.api_key}"})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_chat_model_is_400_naming_model(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="openai/gpt-4o-mini", input="hi", voice="alloy")
    assert caught.value.body["param"] == "model"
    assert caught.value.body["code"] == "model_not_supported"


def test_elevenlabs_format_it_lacks_is_400(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.speech.create(model="elevenlabs/eleven_flash_v2_5", input="hi", voice="v", response_format="flac")
    assert caught.value.body["param"] == "response_format"


@pytest.mark.parametrize("model", ["openai/tts-1", "elevenlabs/eleven_flash_v2_5"])
def test_upstream_429_is_429(client, server, model):
    with pytest.raises(openai.RateLimitError) as caught:
        client.audio.speech.create(model=model, input="[[emulator:fault=429]] please", voice="alloy")
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "2"
    row = server.usage_row(caught.value.response.headers["x-request-id"])
    assert (row["error_type"], row["http_status"]) == ("rate_limit", 429)


@pytest.mark.parametrize("model", ["openai/tts-1", "elevenlabs/eleven_flash_v2_5"])
def test_upstream_auth_failure_is_502(client, model):
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.speech.create(model=model, input="[[emulator:fault=401]] please", voice="alloy")
    assert caught.value.status_code == 502
    assert caught.value.body["code"] == "upstream_auth_failed"


def test_elevenlabs_error_message_reaches_the_client(client):
    # ElevenLabs' `system_busy` (heavy traffic) means "retry later": a rate limit, 429 with Retry-After.
    with pytest.raises(openai.RateLimitError) as caught:
        client.audio.speech.create(model="elevenlabs/eleven_flash_v2_5", input="[[emulator:fault=503]] x", voice="v")
    assert caught.value.status_code == 429
    assert "heavy traffic" in caught.value.body["message"]


@pytest.mark.parametrize("model", ["openai/tts-1", "elevenlabs/eleven_flash_v2_5"])
def test_reset_is_502(client, model):
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.speech.create(model=model, input="[[emulator:fault=reset]] x", voice="alloy")
    assert caught.value.status_code == 502


def test_client_hanging_up_is_a_cancelled_row_with_characters(client, server):
    text = "[[emulator:chunk_interval_ms=150]] " + "y" * 200  # ~15 chunks, over 2 s in all
    with client.audio.speech.with_streaming_response.create(model="openai/tts-1", input=text, voice="alloy") as response:
        request_id = response.headers["x-request-id"]
        next(response.iter_bytes())
    row = server.usage_row(request_id)
    deadline = time.monotonic() + 5
    while row["status"] != "cancelled" and time.monotonic() < deadline:
        time.sleep(0.05)
        row = server.usage_row(request_id)
    assert row["status"] == "cancelled"
    assert json.loads(row["units"]) == {"characters": len(text)}
    assert row["cost_usd"] == pytest.approx(len(text) * 15.0 / 1_000_000)
