"""The emulator's speech-to-text routes as a client sees them (httpx and the official openai SDK, real
sockets): each provider's path, auth and error envelope, the documented transcript rule, and faults."""

from __future__ import annotations

import base64

import httpx
import openai
import pytest

from scripts.emulator import EmulatorThread, transcription_wire

SENTENCE = "One two three. Four five."


wav = transcription_wire.text_wav


@pytest.fixture(scope="module")
def emulator():
    with EmulatorThread() as running:
        yield running


def test_openai_sdk_verbose_json(emulator):
    client = openai.OpenAI(base_url=emulator.base_url + "/v1", api_key="sk-test", max_retries=0)
    verbose = client.audio.transcriptions.create(file=("a.wav", wav(SENTENCE, 2.0), "audio/wav"), model="whisper-1",
                                                 response_format="verbose_json", timestamp_granularities=["word"])
    assert (verbose.text, verbose.duration, verbose.language) == (SENTENCE, 2.0, "english")
    assert [(w.word, w.start, w.end) for w in verbose.words[:2]] == [("One", 0.0, 0.4), ("two", 0.4, 0.8)]
    assert [s.text.strip() for s in verbose.segments] == ["One two three.", "Four five."]
    assert verbose.usage.seconds == 2


def test_openai_needs_a_key_and_a_file(emulator):
    url = emulator.base_url + "/v1/audio/transcriptions"
    assert httpx.post(url, data={"model": "whisper-1"}, files={"file": ("a.wav", b"x", "audio/wav")}).status_code == 401
    missing = httpx.post(url, data={"model": "whisper-1"}, files={"other": ("a.wav", b"x", "audio/wav")},
                         headers={"Authorization": "Bearer k"})
    assert missing.status_code == 400 and missing.json()["error"]["param"] == "file"


def test_gpt_4o_transcribe_has_only_json_and_text(emulator):
    response = httpx.post(emulator.base_url + "/v1/audio/transcriptions", headers={"Authorization": "Bearer k"},
                          data={"model": "gpt-4o-transcribe", "response_format": "srt"},
                          files={"file": ("a.wav", wav("hi"), "audio/wav")})
    assert response.status_code == 400 and response.json()["error"]["param"] == "response_format"
    ok = httpx.post(emulator.base_url + "/v1/audio/transcriptions", headers={"Authorization": "Bearer k"},
                    data={"model": "gpt-4o-transcribe"}, files={"file": ("a.wav", wav("hi", 2.0), "audio/wav")}).json()
    assert ok["usage"]["input_token_details"] == {"text_tokens": 0, "audio_tokens": 20}


def test_groq_json_has_x_groq_and_no_usage(emulator):
    answer = httpx.post(emulator.base_url + "/groq/openai/v1/audio/transcriptions", headers={"Authorization": "Bearer k"},
                        data={"model": "whisper-large-v3"}, files={"file": ("a.wav", wav(SENTENCE), "audio/wav")}).json()
    assert answer["text"] == SENTENCE and "x_groq" in answer and "usage" not in answer


def test_elevenlabs_words_with_spacing(emulator):
    url = emulator.base_url + "/elevenlabs/v1/speech-to-text"
    denied = httpx.post(url, data={"model_id": "scribe_v1"}, files={"file": ("a.wav", wav("hi"), "audio/wav")})
    assert denied.status_code == 401 and denied.json()["detail"]["status"] == "needs_authorization"
    answer = httpx.post(url, headers={"xi-api-key": "k"}, data={"model_id": "scribe_v1"},
                        files={"file": ("a.wav", wav("Hi there."), "audio/wav")}).json()
    assert answer["language_code"] == "eng" and answer["text"] == "Hi there."
    assert [w["type"] for w in answer["words"]] == ["word", "spacing", "word"]


def test_gemini_audio_is_transcribed_and_chat_still_answers(emulator):
    url = emulator.base_url + "/gemini/v1beta/models/gemini-2.5-flash:generateContent"
    audio = {"contents": [{"parts": [{"text": "Transcribe."},
                                     {"inlineData": {"mimeType": "audio/wav", "data": base64.b64encode(wav(SENTENCE)).decode()}}]}]}
    answer = httpx.post(url, headers={"x-goog-api-key": "k"}, json=audio).json()
    assert answer["candidates"][0]["content"]["parts"][0]["text"] == SENTENCE
    assert answer["usageMetadata"]["promptTokenCount"] == 32 + 3  # 1 s of audio, "Transcribe." = 11 characters
    chat = httpx.post(url, headers={"x-goog-api-key": "k"}, json={"contents": [{"parts": [{"text": "Hello"}]}]}).json()
    assert chat["candidates"][0]["content"]["parts"][0]["text"].startswith("Emulated reply to: Hello")


def test_workers_ai_inputs_are_checked_per_model(emulator):
    base = emulator.base_url + "/cloudflare/client/v4/accounts/acc/ai/run/"
    headers = {"Authorization": "Bearer t"}
    turbo = httpx.post(base + "@cf/openai/whisper-large-v3-turbo", headers=headers,
                       json={"audio": base64.b64encode(wav(SENTENCE, 2.0)).decode()}).json()
    assert turbo["result"]["transcription_info"]["duration"] == 2.0
    assert [len(s["words"]) for s in turbo["result"]["segments"]] == [3, 2]
    whisper = httpx.post(base + "@cf/openai/whisper", headers=headers, json={"audio": list(wav(SENTENCE))}).json()
    assert whisper["result"]["text"] == SENTENCE and whisper["result"]["word_count"] == 5
    wrong = httpx.post(base + "@cf/openai/whisper", headers=headers, json={"audio": "base64?"})
    assert wrong.status_code == 400 and wrong.json()["success"] is False


@pytest.mark.parametrize(("path", "headers", "status_key"), [
    ("/v1/audio/transcriptions", {"Authorization": "Bearer k"}, "error"),
    ("/elevenlabs/v1/speech-to-text", {"xi-api-key": "k"}, "detail"),
])
def test_a_marker_in_the_upload_is_a_fault(emulator, path, headers, status_key):
    response = httpx.post(emulator.base_url + path, headers=headers, data={"model": "whisper-1", "model_id": "scribe_v1"},
                          files={"file": ("a.wav", wav("[[emulator:fault=429]]"), "audio/wav")})
    assert response.status_code == 429 and status_key in response.json()
