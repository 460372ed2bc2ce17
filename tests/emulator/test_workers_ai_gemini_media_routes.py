"""The emulator's Workers AI tasks beyond chat (BGE embeddings, Deepgram Aura and MeloTTS speech) and Gemini's
TTS answer, spoken as those APIs speak them: paths, auth, inputs refused as Cloudflare refuses them, the
envelope or the raw audio, and faults in each provider's error body."""

from __future__ import annotations

import base64

import httpx
import pytest

from scripts.emulator import EmulatorThread
from scripts.emulator.audio_wire import audio_bytes

RUN = "/cloudflare/client/v4/accounts/acc/ai/run/"
AUTH = {"authorization": "Bearer cf-token"}


@pytest.fixture(scope="module")
def base_url():
    with EmulatorThread() as running:
        yield running.base_url


def openai_vector(base_url: str, text: str) -> list[float]:
    answer = httpx.post(base_url + "/v1/embeddings", headers={"authorization": "Bearer k"},
                        json={"model": "text-embedding-3-small", "input": [text], "encoding_format": "float",
                              "dimensions": 8}).json()
    return answer["data"][0]["embedding"]


def test_bge_embeddings_envelope_has_the_openai_routes_vectors(base_url):
    response = httpx.post(base_url + RUN + "@cf/baai/bge-small-en-v1.5", headers=AUTH, json={"text": ["a b", "c"]})
    assert response.status_code == 200
    payload = response.json()
    assert payload["success"] is True and payload["errors"] == []
    assert payload["result"]["shape"] == [2, 8] and payload["result"]["pooling"] == "mean"
    assert payload["result"]["data"][0] == pytest.approx(openai_vector(base_url, "a b"), rel=1e-6)


def test_bge_without_text_is_cloudflares_input_error(base_url):
    response = httpx.post(base_url + RUN + "@cf/baai/bge-m3", headers=AUTH, json={"input": "x"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Error: required properties at '/' are 'text'"


def test_aura_answers_the_audio_bytes(base_url):
    response = httpx.post(base_url + RUN + "@cf/deepgram/aura-1", headers=AUTH,
                          json={"text": "Hello", "speaker": "luna", "encoding": "linear16", "container": "wav"})
    assert response.status_code == 200 and response.headers["content-type"] == "audio/wav"
    assert response.content == audio_bytes("Hello", "wav", "luna")
    default = httpx.post(base_url + RUN + "@cf/deepgram/aura-2-en", headers=AUTH, json={"text": "Hi"})
    assert default.headers["content-type"] == "audio/mpeg" and default.content == audio_bytes("Hi", "mp3", "luna")


def test_aura_refuses_an_unknown_encoding_and_a_missing_token(base_url):
    bad = httpx.post(base_url + RUN + "@cf/deepgram/aura-1", headers=AUTH, json={"text": "x", "encoding": "wma"})
    assert bad.status_code == 400 and bad.json()["success"] is False
    anonymous = httpx.post(base_url + RUN + "@cf/deepgram/aura-1", json={"text": "x"})
    assert anonymous.status_code == 401 and anonymous.json()["errors"][0]["code"] == 10000


def test_melotts_answers_base64_mp3_in_the_envelope(base_url):
    response = httpx.post(base_url + RUN + "@cf/myshell-ai/melotts", headers=AUTH, json={"prompt": "Salut", "lang": "fr"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert base64.b64decode(response.json()["result"]["audio"]) == audio_bytes("Salut", "mp3", "fr")


def test_speech_faults_use_cloudflares_envelope(base_url):
    response = httpx.post(base_url + RUN + "@cf/deepgram/aura-1", headers=AUTH,
                          json={"text": "busy [[emulator:fault=429]]"})
    assert response.status_code == 429 and response.json()["errors"][0]["code"] == 3040


def test_gemini_tts_answers_pcm_inline_data(base_url):
    body = {"contents": [{"role": "user", "parts": [{"text": "Say hi"}]}],
            "generationConfig": {"responseModalities": ["AUDIO"],
                                 "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Puck"}}}}}
    response = httpx.post(base_url + "/gemini/v1beta/models/gemini-2.5-flash-preview-tts:generateContent",
                          headers={"x-goog-api-key": "k"}, json=body)
    assert response.status_code == 200
    part = response.json()["candidates"][0]["content"]["parts"][0]["inlineData"]
    assert part["mimeType"] == "audio/L16;codec=pcm;rate=24000"
    assert base64.b64decode(part["data"]) == audio_bytes("Say hi", "pcm", "Puck")
    assert response.json()["usageMetadata"]["candidatesTokensDetails"][0]["modality"] == "AUDIO"
    # Without AUDIO in responseModalities the same route answers text, as before.
    text = httpx.post(base_url + "/gemini/v1beta/models/gemini-2.5-flash:generateContent",
                      headers={"x-goog-api-key": "k"}, json={"contents": body["contents"]}).json()
    assert text["candidates"][0]["content"]["parts"][0]["text"].startswith("Emulated reply to:")
