"""The official OpenAI SDK against POST /v1/audio/transcriptions: every speech-to-text provider through
the emulator (OpenAI, Groq, ElevenLabs, Gemini, Workers AI), the formats json / text / verbose_json /
srt / vtt, what reached each provider, usage rows (seconds and cost), malformed uploads over HTTP, and
upstream errors. Expected transcripts come from the emulator's documented rule (transcription_wire)."""

from __future__ import annotations

import hashlib
import json
import math
import time

import httpx
import openai
import pytest

from scripts.emulator import transcription_wire as rule
from tests.conftest import CLOUDFLARE_ACCOUNT_ID, GatewayServer, gateway_config, provider_key

SENTENCE = "Hello there. How are you today?"
# Catalog prices (migrations/0010_transcription_models.sql): USD per minute, and per million tokens.
PER_MINUTE = {
    "openai/whisper-1": 0.006,
    "groq/whisper-large-v3": 0.00185,
    "groq/whisper-large-v3-turbo": 0.000667,
    "elevenlabs/scribe_v1": 0.00667,
    "workers-ai/@cf/openai/whisper-large-v3-turbo": 0.00051,
    "workers-ai/@cf/openai/whisper": 0.00045,
}
PER_MTOK = {"openai/gpt-4o-transcribe": (6.0, 10.0), "openai/gpt-4o-mini-transcribe": (3.0, 5.0),
            "gemini/gemini-2.5-flash-transcribe": (1.0, 2.5)}
MODELS = list(PER_MINUTE) + list(PER_MTOK)
TIMED = [m for m in MODELS if not m.startswith(("openai/gpt-4o", "gemini/"))]  # providers that time words


def wav(text: str, seconds: float = 2.0, rate: int = 8000) -> bytes:
    """An upload the emulator 'hears' as `text` (transcription_wire.text_wav)."""
    return rule.text_wav(text, seconds, rate)


@pytest.fixture(scope="module")
def server(emulator, tmp_path_factory):
    config = gateway_config(emulator.base_url, MAX_UPLOAD_BYTES="200000")
    running = GatewayServer(config, tmp_path_factory.mktemp("stt") / "gateway.sqlite3").start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def client(server) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=server.create_key(name="stt"), max_retries=0)


def recorded(emulator) -> list[dict]:
    return httpx.get(emulator.base_url + "/_emulator/requests").json()


def transcribe(client, model: str, data: bytes, **kwargs):
    return client.audio.transcriptions.with_raw_response.create(file=("speech.wav", data, "audio/wav"), model=model, **kwargs)


# ---- answers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_json_is_the_transcript(client, server, model):
    raw = transcribe(client, model, wav(SENTENCE))
    assert raw.headers["content-type"] == "application/json"
    assert raw.headers["x-gateway-model"] == model
    assert raw.parse().text == SENTENCE


@pytest.mark.parametrize("model", MODELS)
def test_text_is_plain_text(client, model):
    raw = transcribe(client, model, wav(SENTENCE), response_format="text")
    assert raw.headers["content-type"].startswith("text/plain")
    assert raw.parse().strip() == SENTENCE


@pytest.mark.parametrize("model", TIMED)
def test_verbose_json_with_words(client, model):
    verbose = client.audio.transcriptions.create(file=("s.wav", wav(SENTENCE, 3.0), "audio/wav"), model=model,
                                                 response_format="verbose_json", timestamp_granularities=["word"])
    assert verbose.text == SENTENCE
    assert verbose.duration == pytest.approx(3.0)
    assert [s.text.strip() for s in verbose.segments] == ["Hello there.", "How are you today?"]
    expected_words = rule.words_of(SENTENCE, 3.0)
    assert [(w.word, w.start, w.end) for w in verbose.words] == [(w["word"], w["start"], w["end"]) for w in expected_words]


def test_gemini_verbose_json_is_one_segment_over_the_audio(client):
    verbose = client.audio.transcriptions.create(file=("s.wav", wav(SENTENCE, 3.0), "audio/wav"),
                                                 model="gemini/gemini-2.5-flash-transcribe", language="en",
                                                 response_format="verbose_json", timestamp_granularities=["word"])
    assert (verbose.text, verbose.language, verbose.duration) == (SENTENCE, "en", 3.0)
    assert [(s.start, s.end, s.text) for s in verbose.segments] == [(0.0, 3.0, SENTENCE)]
    assert verbose.words == []


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
@pytest.mark.parametrize("model", ["openai/whisper-1", "elevenlabs/scribe_v1", "workers-ai/@cf/openai/whisper"])
def test_subtitles_follow_the_sentences(client, model, fmt):
    text = client.audio.transcriptions.create(file=("s.wav", wav(SENTENCE, 3.0), "audio/wav"), model=model,
                                              response_format=fmt)
    assert text.strip() == rule.subtitles(SENTENCE, 3.0, fmt).strip()


def test_gpt_4o_transcribe_refuses_verbose_json_naming_the_field(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(file=("s.wav", wav("hi"), "audio/wav"), model="openai/gpt-4o-transcribe",
                                           response_format="verbose_json")
    assert caught.value.body["param"] == "response_format"


def test_undecodable_audio_gets_the_rule_derived_transcript(client):
    data = b"ID3\x04\x00\x00\x00\x00\x00\x00" + hashlib.sha256(b"x").digest() * 100
    answer = client.audio.transcriptions.create(file=("a.mp3", data, "audio/mpeg"), model="groq/whisper-large-v3")
    assert answer.text == f"Emulated transcript of {len(data)} bytes of audio ({hashlib.sha256(data).hexdigest()[:8]})."


@pytest.mark.parametrize(("tts", "stt"), [("openai/tts-1", "openai/whisper-1"),
                                          ("elevenlabs/eleven_flash_v2_5", "groq/whisper-large-v3-turbo")])
def test_the_emulators_own_speech_transcribes_back_to_its_text(client, tts, stt):
    text = "The quick brown fox jumps over the lazy dog."
    audio = client.audio.speech.create(model=tts, input=text, voice="JBFqnCBsd6RMkjVDRZzb").content
    answer = client.audio.transcriptions.create(file=("speech.mp3", audio, "audio/mpeg"), model=stt)
    assert answer.text == text


# ---- what reached each provider --------------------------------------------------------------------


def test_openai_upload_reached_the_provider(client, emulator):
    data = wav(SENTENCE)
    client.audio.transcriptions.create(file=("speech.wav", data, "audio/wav"), model="openai/whisper-1", language="en",
                                       prompt="Greeting", temperature=0.2, response_format="json")
    sent = recorded(emulator)[-1]
    assert sent["path"] == "/v1/audio/transcriptions"
    assert sent["headers"]["Authorization"] == "Bearer sk-test-openai-key"
    assert sent["body"]["fields"] == {"model": ["whisper-1"], "response_format": ["verbose_json"], "language": ["en"],
                                      "prompt": ["Greeting"], "temperature": ["0.2"]}
    assert sent["body"]["files"]["file"] == {"filename": "speech.wav", "content_type": "audio/wav", "size": len(data),
                                             "sha256": hashlib.sha256(data).hexdigest()}


def test_groq_upload_reached_its_base_path(client, emulator):
    client.audio.transcriptions.create(file=("speech.wav", wav("hi"), "audio/wav"), model="groq/whisper-large-v3-turbo")
    sent = recorded(emulator)[-1]
    assert sent["path"] == "/groq/openai/v1/audio/transcriptions"
    assert sent["headers"]["Authorization"] == f"Bearer {provider_key('GROQ')}"
    assert sent["body"]["fields"]["model"] == ["whisper-large-v3-turbo"]


def test_elevenlabs_upload_reached_the_provider(client, emulator):
    data = wav("Guten Tag.")
    client.audio.transcriptions.create(file=("speech.wav", data, "audio/wav"), model="elevenlabs/scribe_v1", language="de")
    sent = recorded(emulator)[-1]
    assert sent["path"] == "/elevenlabs/v1/speech-to-text"
    assert sent["headers"]["xi-api-key"] == provider_key("ELEVENLABS")
    assert sent["body"]["fields"] == {"model_id": ["scribe_v1"], "timestamps_granularity": ["word"], "language_code": ["de"]}
    assert sent["body"]["files"]["file"]["sha256"] == hashlib.sha256(data).hexdigest()


def test_gemini_request_carries_the_audio_inline(client, emulator):
    import base64

    data = wav("Bonjour.")
    client.audio.transcriptions.create(file=("speech.wav", data, "audio/wav"), model="gemini/gemini-2.5-flash-transcribe")
    sent = recorded(emulator)[-1]
    assert sent["path"] == "/gemini/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent["headers"]["x-goog-api-key"] == provider_key("GEMINI")
    parts = sent["body"]["contents"][0]["parts"]
    assert parts[0]["text"].startswith("Transcribe the speech in this audio verbatim.")
    assert parts[1]["inlineData"] == {"mimeType": "audio/wav", "data": base64.b64encode(data).decode()}


@pytest.mark.parametrize(("model", "audio_of"), [
    ("@cf/openai/whisper-large-v3-turbo", lambda data: __import__("base64").b64encode(data).decode()),
    ("@cf/openai/whisper", list),
])
def test_workers_ai_inputs(client, emulator, model, audio_of):
    data = wav("Hola.", 0.5)
    client.audio.transcriptions.create(file=("speech.wav", data, "audio/wav"), model="workers-ai/" + model)
    sent = recorded(emulator)[-1]
    assert sent["path"] == f"/cloudflare/client/v4/accounts/{CLOUDFLARE_ACCOUNT_ID}/ai/run/{model}"
    assert sent["body"]["audio"] == audio_of(data)


# ---- usage rows ------------------------------------------------------------------------------------


@pytest.mark.parametrize("model", list(PER_MINUTE))
def test_usage_row_seconds_and_cost_by_the_minute(client, server, model):
    raw = transcribe(client, model, wav(SENTENCE, 4.5))
    row = server.usage_row(raw.headers["x-request-id"])
    assert (row["endpoint"], row["model_id"], row["status"], row["stream"]) == ("transcription", model, "success", 0)
    # OpenAI bills whole seconds (usage.seconds); the others report or are measured at the exact duration.
    seconds = math.ceil(4.5) if model == "openai/whisper-1" else 4.5
    assert json.loads(row["units"]) == {"seconds": seconds}
    if model.startswith("workers-ai/"):
        # Within the day's free Workers AI neurons (docs/cost.md): free; the catalog's USD price in neurons.
        assert (row["cost_status"], row["cost_usd"]) == ("free", 0.0)
        assert row["neurons"] == pytest.approx(seconds / 60 * PER_MINUTE[model] / (0.011 / 1000), rel=1e-3)
    else:
        assert row["cost_usd"] == pytest.approx(seconds / 60 * PER_MINUTE[model])
        assert row["cost_status"] == "priced"


@pytest.mark.parametrize("model", list(PER_MTOK))
def test_usage_row_of_token_billed_models(client, server, model):
    raw = transcribe(client, model, wav(SENTENCE, 4.5))
    row = server.usage_row(raw.headers["x-request-id"])
    if model.startswith("gemini/"):
        from gateway.providers.gemini.transcription import INSTRUCTION

        expected_in = rule.audio_tokens(4.5, 32) + rule.output_tokens(INSTRUCTION)
    else:
        expected_in = rule.audio_tokens(4.5, 10)
    expected_out = rule.output_tokens(SENTENCE)
    assert (row["input_tokens"], row["output_tokens"]) == (expected_in, expected_out)
    price_in, price_out = PER_MTOK[model]
    assert row["cost_usd"] == pytest.approx((expected_in * price_in + expected_out * price_out) / 1_000_000)
    assert json.loads(row["units"]) == {"seconds": 4.5}
    assert raw.parse().usage.input_tokens == expected_in


def test_unmeasurable_audio_is_an_estimated_row(client, server):
    data = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb" * 16_000  # 32,010 bytes of "mp3"
    raw = client.audio.transcriptions.with_raw_response.create(file=("a.mp3", data, "audio/mpeg"), model="elevenlabs/scribe_v1")
    row = server.usage_row(raw.headers["x-request-id"])
    seconds = round(len(data) / 16_000, 3)
    assert json.loads(row["units"]) == {"seconds": seconds}
    assert row["cost_status"] == "estimated"
    assert row["cost_usd"] == pytest.approx(len(data) / 16_000 / 60 * PER_MINUTE["elevenlabs/scribe_v1"])


# ---- malformed uploads -----------------------------------------------------------------------------


def post(client, **kwargs) -> httpx.Response:
    return httpx.post(str(client.base_url) + "audio/transcriptions", headers={"authorization": f"Bearer {client.api_key}"},
                      timeout=10, **kwargs)


def upstream_calls(emulator) -> int:
    return sum(1 for r in recorded(emulator) if r["path"].endswith("/audio/transcriptions"))


def assert_error_row(server, response: httpx.Response, status: int) -> None:
    """A complete error row: status, type, no units, nothing billed."""
    row = server.usage_row(response.headers["x-request-id"])
    assert (row["status"], row["http_status"], row["endpoint"]) == ("error", status, "transcription")
    assert (row["units"], row["cost_usd"], row["cost_status"]) == (None, 0.0, "none")


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"json": {"model": "openai/whisper-1", "file": "x"}}, None),
    ({"content": b"--abc\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n",
      "headers_extra": {"content-type": "multipart/form-data; boundary=abc"}}, None),
    ({"data": {"model": "openai/whisper-1"}, "files": {"other": ("a.wav", b"RIFF", "audio/wav")}}, "file"),
    ({"data": {"model": "openai/whisper-1"}, "files": {"file": ("a.wav", b"", "audio/wav")}}, "file"),
    ({"files": {"file": ("a.wav", b"RIFFdata", "audio/wav")}}, "model"),
    ({"data": {"model": "openai/whisper-1", "response_format": "mp3"}, "files": {"file": ("a.wav", b"RIFF", "audio/wav")}},
     "response_format"),
    ({"data": {"model": "openai/gpt-4o-mini"}, "files": {"file": ("a.wav", b"RIFF", "audio/wav")}}, "model"),
])
def test_bad_uploads_are_400_in_the_openai_envelope(client, server, emulator, kwargs, param):
    before = upstream_calls(emulator)
    extra = kwargs.pop("headers_extra", None)
    if extra:
        response = httpx.post(str(client.base_url) + "audio/transcriptions", timeout=10,
                              headers={"authorization": f"Bearer {client.api_key}", **extra}, **kwargs)
    else:
        response = post(client, **kwargs)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    assert_error_row(server, response, 400)
    assert upstream_calls(emulator) == before


def test_chat_model_is_model_not_supported(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.audio.transcriptions.create(file=("a.wav", wav("hi"), "audio/wav"), model="openai/gpt-4o-mini")
    assert caught.value.body["code"] == "model_not_supported" and caught.value.body["param"] == "model"


def test_an_upload_over_the_cap_is_413_before_anything_is_read(client, server, emulator):
    # MAX_UPLOAD_BYTES is 200,000 here: the declared body (over the cap plus form room) is refused unread.
    before = upstream_calls(emulator)
    response = post(client, data={"model": "openai/whisper-1"}, files={"file": ("a.wav", b"\x00" * 1_300_000, "audio/wav")})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"
    assert upstream_calls(emulator) == before
    time.sleep(0.2)
    with server.admin() as admin:
        rows = admin.get("/admin/usage", params={"limit": 1000}).json()["data"]
    assert response.headers["x-request-id"] not in {r["request_id"] for r in rows}  # no caller yet: no row


def test_a_file_over_the_cap_within_the_form_room_is_413_naming_file(client, server):
    response = post(client, data={"model": "openai/whisper-1"}, files={"file": ("a.wav", b"\x00" * 200_001, "audio/wav")})
    assert response.status_code == 413
    assert response.json()["error"]["param"] == "file"
    assert_error_row(server, response, 413)


def test_no_key_is_401(server):
    response = httpx.post(server.base_url + "/v1/audio/transcriptions", files={"file": ("a.wav", b"RIFF", "audio/wav")},
                          data={"model": "openai/whisper-1"})
    assert response.status_code == 401


# ---- upstream errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("model", ["openai/whisper-1", "groq/whisper-large-v3", "elevenlabs/scribe_v1",
                                   "gemini/gemini-2.5-flash-transcribe", "workers-ai/@cf/openai/whisper-large-v3-turbo"])
def test_upstream_429_is_429_with_retry_after(client, server, model):
    with pytest.raises(openai.RateLimitError) as caught:
        client.audio.transcriptions.create(file=("a.wav", wav("[[emulator:fault=429]] please"), "audio/wav"), model=model)
    response = caught.value.response
    assert response.status_code == 429 and int(response.headers["retry-after"]) >= 1
    row = server.usage_row(response.headers["x-request-id"])
    assert (row["status"], row["error_type"], row["http_status"], row["units"]) == ("error", "rate_limit", 429, None)


def test_fault_marker_in_the_prompt_works_too(client):
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.transcriptions.create(file=("a.wav", wav("hi"), "audio/wav"), model="openai/whisper-1",
                                           prompt="[[emulator:fault=401]]")
    assert caught.value.status_code == 502 and caught.value.body["code"] == "upstream_auth_failed"


@pytest.mark.parametrize("model", ["openai/whisper-1", "elevenlabs/scribe_v1"])
def test_upstream_reset_is_502(client, model):
    with pytest.raises(openai.APIStatusError) as caught:
        client.audio.transcriptions.create(file=("a.wav", wav("[[emulator:fault=reset]]"), "audio/wav"), model=model)
    assert caught.value.status_code == 502


def test_openapi_documents_the_multipart_body(server):
    schema = httpx.get(server.base_url + "/openapi.json").json()
    operation = schema["paths"]["/v1/audio/transcriptions"]["post"]
    body = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file", "model"] and body["properties"]["file"]["format"] == "binary"
