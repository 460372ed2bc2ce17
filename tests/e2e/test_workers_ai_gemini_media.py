"""The official OpenAI SDK against the gateway for the Workers AI and Gemini media cells: Workers AI embeddings
(float and base64), Workers AI speech (Deepgram Aura, streamed bytes; MeloTTS, JSON with base64 audio) and
Gemini speech (PCM wrapped in a WAV file), over the Workers AI REST API and Gemini's generateContent on the
emulator. Expectations come from the emulator's documented rules (scripts/emulator/audio_wire.py,
workers_ai_wire.py, openai_wire.embedding_vector), never from the gateway's output."""

from __future__ import annotations

import base64
import json
import struct
from urllib.parse import unquote

import httpx
import openai
import pytest

from scripts.emulator import openai_wire
from scripts.emulator.audio_wire import audio_bytes
from tests.conftest import CLOUDFLARE_API_TOKEN, GatewayServer, gateway_config, provider_key

# Catalog prices (migrations/0012_workers_ai_gemini_media.sql).
BGE_SMALL_PRICE = 0.020        # USD per million input tokens
AURA_1_PRICE = 15.0            # USD per million characters
MELOTTS_PRICE = 0.20
GEMINI_FLASH_TTS_PRICE = 19.30


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    config = gateway_config(emulator.base_url)
    running = GatewayServer(config, tmp_path_factory.mktemp("wai") / "gateway.sqlite3").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=server.create_key(name="wai"), max_retries=0)


def sent_with(emulator, text: str) -> dict:
    for request in reversed(httpx.get(emulator.base_url + "/_emulator/requests").json()):
        if text in json.dumps(request["body"]):
            return request
    raise AssertionError(f"nothing carrying {text!r} reached the emulator")


def emulator_vector(text: str) -> list[float]:
    dims = openai_wire.EMBEDDING_DIMS
    return list(struct.unpack(f"<{dims}f", openai_wire.embedding_vector(text, dims)))


# ---- Workers AI embeddings --------------------------------------------------------------------------


def test_workers_ai_embeddings_float(client, server, emulator):
    inputs = ["first wai text", "the second one is longer"]
    raw = client.embeddings.with_raw_response.create(model="workers-ai/@cf/baai/bge-small-en-v1.5", input=inputs)
    answer = raw.parse()
    sent = sent_with(emulator, "first wai text")
    assert unquote(sent["path"]).endswith("/accounts/test-account-id/ai/run/@cf/baai/bge-small-en-v1.5")
    assert sent["headers"]["Authorization"] == f"Bearer {CLOUDFLARE_API_TOKEN}"
    assert sent["body"] == {"text": inputs}
    assert answer.model == "workers-ai/@cf/baai/bge-small-en-v1.5"
    assert [item.index for item in answer.data] == [0, 1]
    for item, text in zip(answer.data, inputs):
        assert item.embedding == pytest.approx(emulator_vector(text), rel=1e-6)
    # Workers AI reports no counts: the documented estimate, 4 characters a token per text (rounded up).
    tokens = sum(-(-len(t) // 4) for t in inputs)
    assert answer.usage.prompt_tokens == tokens
    row = server.usage_row(raw.headers["x-request-id"])
    # Within the day's free neurons (docs/cost.md): free, with its neurons.
    assert (row["status"], row["provider_id"], row["endpoint"], row["cost_status"]) == (
        "success", "workers-ai", "embeddings", "free")
    assert row["input_tokens"] == tokens
    assert row["cost_usd"] == 0.0
    assert row["neurons"] == pytest.approx(tokens * 1841 / 1_000_000, abs=1e-4)  # 0012: 1841 neurons per Mtok


def test_workers_ai_embeddings_base64_is_little_endian_float32(client, emulator):
    # The SDK asks for base64 by default when no encoding_format is given and decodes it into floats itself;
    # ask explicitly and read the raw body to see the encoding on the wire.
    response = client.embeddings.with_raw_response.create(
        model="workers-ai/@cf/baai/bge-base-en-v1.5", input="encode me wai", encoding_format="base64")
    payload = json.loads(response.http_response.text)
    encoded = payload["data"][0]["embedding"]
    assert isinstance(encoded, str)
    assert list(struct.unpack("<8f", base64.b64decode(encoded))) == pytest.approx(emulator_vector("encode me wai"),
                                                                                  rel=1e-6)
    assert sent_with(emulator, "encode me wai")["body"] == {"text": ["encode me wai"]}


@pytest.mark.parametrize(("extra", "param"), [({"dimensions": 256}, "dimensions"), ({"input": [[1, 2, 3]]}, "input")])
def test_workers_ai_embeddings_refuses_what_it_cannot_do(client, extra, param):
    body = {"model": "workers-ai/@cf/baai/bge-small-en-v1.5", "input": "x", **extra}
    with pytest.raises(openai.BadRequestError) as raised:
        client.embeddings.create(**body)
    assert raised.value.status_code == 400 and raised.value.body["param"] == param


def test_workers_ai_embeddings_upstream_429(client, emulator):
    with pytest.raises(openai.RateLimitError) as raised:
        client.embeddings.create(model="workers-ai/@cf/baai/bge-m3", input="busy [[emulator:fault=429]]")
    assert raised.value.status_code == 429 and raised.value.body["code"] == "rate_limit_exceeded"


# ---- Workers AI speech --------------------------------------------------------------------------------


def test_aura_speaks_mp3_streamed(client, server, emulator):
    text = "Aura reads this sentence aloud."
    with client.audio.speech.with_streaming_response.create(model="workers-ai/@cf/deepgram/aura-1", input=text,
                                                            voice="asteria") as response:
        received = b"".join(response.iter_bytes())
        content_type = response.headers["content-type"]
        request_id = response.headers["x-request-id"]
    assert content_type == "audio/mpeg"
    assert received == audio_bytes(text, "mp3", "asteria")
    sent = sent_with(emulator, text)
    assert sent["body"] == {"text": text, "encoding": "mp3", "speaker": "asteria"}
    row = server.usage_row(request_id)
    assert (row["status"], row["endpoint"], row["provider_id"]) == ("success", "speech", "workers-ai")
    assert json.loads(row["units"]) == {"characters": len(text)}
    assert (row["cost_usd"], row["cost_status"]) == (0.0, "free")  # within the day's free neurons
    assert row["neurons"] == pytest.approx(len(text) / 1000 * 1363.64, abs=1e-4)  # 0012: per 1,000 characters


def test_aura_openai_voice_falls_back_to_the_default_speaker_and_wav(client, emulator):
    text = "Aura in a wav container."
    raw = client.audio.speech.with_raw_response.create(model="workers-ai/@cf/deepgram/aura-1", input=text,
                                                       voice="alloy", response_format="wav")
    assert raw.headers["content-type"] == "audio/wav"
    assert raw.parse().content == audio_bytes(text, "wav", "angus")
    assert sent_with(emulator, text)["body"] == {"text": text, "encoding": "linear16", "container": "wav",
                                                 "sample_rate": 24000}


def test_melotts_answers_its_base64_mp3_decoded(client, server, emulator):
    text = "MeloTTS says hello."
    raw = client.audio.speech.with_raw_response.create(model="workers-ai/@cf/myshell-ai/melotts", input=text,
                                                       voice="alloy", extra_body={"lang": "fr"})
    assert raw.headers["content-type"] == "audio/mpeg"
    assert raw.parse().content == audio_bytes(text, "mp3", "fr")
    assert sent_with(emulator, text)["body"] == {"prompt": text, "lang": "fr"}
    row = server.usage_row(raw.headers["x-request-id"])
    assert row["status"] == "success"
    assert (row["cost_usd"], row["cost_status"]) == (0.0, "free")  # within the day's free neurons
    assert row["neurons"] == pytest.approx(len(text) / 1000 * 18.63, abs=1e-4)  # 0012: per 1,000 characters


def test_melotts_cannot_make_wav(client):
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.speech.create(model="workers-ai/@cf/myshell-ai/melotts", input="x", voice="alloy",
                                   response_format="wav")
    assert raised.value.body["param"] == "response_format"


def test_melotts_upstream_error_is_classified(client, server):
    with pytest.raises(openai.RateLimitError) as raised:
        client.audio.speech.create(model="workers-ai/@cf/myshell-ai/melotts", input="no [[emulator:fault=429]]",
                                   voice="alloy")
    assert raised.value.status_code == 429


# ---- Gemini speech ------------------------------------------------------------------------------------


def riff_chunks(data: bytes) -> tuple[dict, bytes]:
    """The `fmt ` fields and the `data` chunk of a RIFF/WAVE file (asserting the header is consistent)."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert struct.unpack("<I", data[4:8])[0] == len(data) - 8
    at, fmt, samples = 12, None, None
    while at < len(data):
        name, size = data[at:at + 4], struct.unpack("<I", data[at + 4:at + 8])[0]
        chunk = data[at + 8:at + 8 + size]
        if name == b"fmt ":
            tag, channels, rate, byte_rate, align, bits = struct.unpack("<HHIIHH", chunk[:16])
            fmt = {"tag": tag, "channels": channels, "rate": rate, "byte_rate": byte_rate, "align": align,
                   "bits": bits}
        elif name == b"data":
            samples = chunk
        at += 8 + size
    assert fmt is not None and samples is not None
    return fmt, samples


def test_gemini_speech_is_a_wav_around_the_pcm(client, server, emulator):
    text = "Gemini speaks this line."
    raw = client.audio.speech.with_raw_response.create(model="gemini/gemini-2.5-flash-preview-tts", input=text,
                                                       voice="Puck")
    assert raw.headers["content-type"] == "audio/wav"
    fmt, samples = riff_chunks(raw.parse().content)
    assert fmt == {"tag": 1, "channels": 1, "rate": 24000, "byte_rate": 48000, "align": 2, "bits": 16}
    assert samples == audio_bytes(text, "pcm", "Puck")
    sent = sent_with(emulator, text)
    assert sent["path"] == "/gemini/v1beta/models/gemini-2.5-flash-preview-tts:generateContent"
    assert sent["headers"]["x-goog-api-key"] == provider_key("GEMINI")
    assert sent["body"]["generationConfig"] == {
        "responseModalities": ["AUDIO"],
        "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}}
    row = server.usage_row(raw.headers["x-request-id"])
    assert (row["status"], row["provider_id"], row["endpoint"]) == ("success", "gemini", "speech")
    assert row["cost_usd"] == pytest.approx(len(text) * GEMINI_FLASH_TTS_PRICE / 1_000_000)


def test_gemini_speech_pcm_and_openai_voice_mapping(client, emulator):
    text = "Raw samples please."
    raw = client.audio.speech.with_raw_response.create(model="gemini/gemini-2.5-pro-preview-tts", input=text,
                                                       voice="alloy", response_format="pcm",
                                                       instructions="Say calmly")
    assert raw.headers["content-type"] == "audio/pcm"
    # alloy → Zephyr; instructions go before the text, as Gemini's style prompts do.
    assert raw.parse().content == audio_bytes(f"Say calmly: {text}", "pcm", "Zephyr")
    sent = sent_with(emulator, text)
    assert sent["body"]["contents"] == [{"role": "user", "parts": [{"text": f"Say calmly: {text}"}]}]


@pytest.mark.parametrize(("extra", "param"), [({"response_format": "mp3"}, "response_format"),
                                              ({"response_format": "opus"}, "response_format"),
                                              ({"speed": 1.5}, "speed")])
def test_gemini_speech_refuses_what_it_cannot_produce(client, extra, param):
    with pytest.raises(openai.BadRequestError) as raised:
        client.audio.speech.create(model="gemini/gemini-2.5-flash-preview-tts", input="x", voice="Kore", **extra)
    assert raised.value.status_code == 400 and raised.value.body["param"] == param


def test_gemini_speech_rate_limit(client, server):
    response = httpx.post(server.base_url + "/v1/audio/speech",
                          headers={"authorization": f"Bearer {client.api_key}"},
                          json={"model": "gemini/gemini-2.5-flash-preview-tts", "voice": "Kore",
                                "input": "later [[emulator:fault=429]]"}, timeout=10)
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
    row = server.usage_row(response.headers["x-request-id"])
    assert (row["status"], row["http_status"], row["provider_id"]) == ("error", 429, "gemini")
