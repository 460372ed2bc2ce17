"""Workers AI embeddings and speech, Gemini speech, the binding's binary content types and the vision check:
pure transforms (plain Python; these also run inside Pyodide)."""

from __future__ import annotations

import base64
import json
import struct

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.pipeline.catalog import require_vision
from gateway.pipeline.context import Target
from gateway.ports.ai_binding import binary_content_type
from gateway.providers.base import Endpoint
from gateway.providers.gemini.speech import SPEECH as GEMINI_SPEECH
from gateway.providers.gemini.speech import voice_name, wav
from gateway.providers.openai_format.embeddings import base64_to_floats
from gateway.providers.workers_ai.embeddings import EMBEDDINGS
from gateway.providers.workers_ai.speech import SPEECH as WAI_SPEECH

WAI = Endpoint(base_url="https://api.cloudflare.com/client/v4/accounts/acc/ai/run", api_key="cf-token")
GEMINI = Endpoint(base_url="https://generativelanguage.googleapis.com", api_key="gm-key")


def envelope(result: object) -> dict:
    return {"result": result, "success": True, "errors": [], "messages": []}


# ---- Workers AI embeddings ----------------------------------------------------------------------------


def test_embeddings_request_is_the_text_list_on_the_run_url():
    request = EMBEDDINGS.build_request({"model": "m", "input": "one", "pooling": "cls"}, "@cf/baai/bge-m3", WAI)
    assert request.url == "https://api.cloudflare.com/client/v4/accounts/acc/ai/run/@cf/baai/bge-m3"
    assert request.headers["authorization"] == "Bearer cf-token"
    assert json.loads(request.body) == {"text": ["one"], "pooling": "cls"}


@pytest.mark.parametrize(("body", "param"), [({"input": [[1, 2]]}, "input"), ({"input": "x", "dimensions": 3}, "dimensions")])
def test_embeddings_refusals_name_the_field(body, param):
    with pytest.raises(InvalidRequestError) as raised:
        EMBEDDINGS.build_request({"model": "m", **body}, "@cf/baai/bge-small-en-v1.5", WAI)
    assert raised.value.param == param


def test_embeddings_answer_in_float_and_base64():
    payload = envelope({"shape": [2, 2], "data": [[0.5, -1.0], [0.25, 2.0]], "pooling": "mean"})
    answer, usage = EMBEDDINGS.parse_response(payload, {"model": "workers-ai/x", "input": ["a", "b"]})
    assert usage is None  # no counts: the pipeline estimates
    assert [d["embedding"] for d in answer["data"]] == [[0.5, -1.0], [0.25, 2.0]]
    assert answer["model"] == "workers-ai/x"
    encoded, _ = EMBEDDINGS.parse_response(payload, {"model": "x", "input": ["a", "b"], "encoding_format": "base64"})
    assert base64_to_floats(encoded["data"][1]["embedding"]) == [0.25, 2.0]


def test_embeddings_answer_with_the_wrong_count_or_an_error_is_an_upstream_error():
    with pytest.raises(UpstreamError) as raised:
        EMBEDDINGS.parse_response(envelope({"shape": [1, 2], "data": [[1.0, 2.0]]}), {"input": ["a", "b"]})
    assert raised.value.category is ErrorCategory.SERVER_ERROR
    failed = {"result": None, "success": False, "errors": [{"code": 3040, "message": "Capacity"}]}
    with pytest.raises(UpstreamError) as raised:
        EMBEDDINGS.parse_response(failed, {"input": "a"})
    assert raised.value.category is ErrorCategory.RATE_LIMIT


# ---- Workers AI speech --------------------------------------------------------------------------------


@pytest.mark.parametrize(("fmt", "inputs", "content_type"), [
    (None, {"encoding": "mp3"}, "audio/mpeg"),
    ("opus", {"encoding": "opus", "container": "ogg"}, "audio/opus"),
    ("aac", {"encoding": "aac"}, "audio/aac"),
    ("flac", {"encoding": "flac"}, "audio/flac"),
    ("wav", {"encoding": "linear16", "container": "wav", "sample_rate": 24000}, "audio/wav"),
    ("pcm", {"encoding": "linear16", "container": "none", "sample_rate": 24000}, "audio/pcm"),
])
def test_aura_formats(fmt, inputs, content_type):
    body = {"model": "m", "input": "Hi", "voice": "Asteria", "response_format": fmt}
    request = WAI_SPEECH.build_request(body, "@cf/deepgram/aura-1", WAI)
    assert json.loads(request.body) == {"text": "Hi", **inputs, "speaker": "asteria"}
    assert WAI_SPEECH.content_type(body) == content_type


def test_aura_leaves_an_openai_voice_to_the_default_speaker():
    request = WAI_SPEECH.build_request({"model": "m", "input": "Hi", "voice": "alloy"}, "@cf/deepgram/aura-2-en", WAI)
    assert "speaker" not in json.loads(request.body)


def test_melotts_request_and_answer():
    body = {"model": "m", "input": "Salut", "voice": "alloy", "lang": "fr"}
    request = WAI_SPEECH.build_request(body, "@cf/myshell-ai/melotts", WAI)
    assert json.loads(request.body) == {"prompt": "Salut", "lang": "fr"}
    raw = json.dumps(envelope({"audio": base64.b64encode(b"ID3 mp3 bytes").decode()})).encode()
    assert WAI_SPEECH.audio_from(raw, body) == b"ID3 mp3 bytes"
    with pytest.raises(UpstreamError) as raised:
        WAI_SPEECH.build_request({**body, "response_format": "wav"}, "@cf/myshell-ai/melotts", WAI)
    assert raised.value.param == "response_format" and raised.value.status == 400


def test_melotts_error_document_and_missing_audio():
    failed = json.dumps({"success": False, "errors": [{"code": 3036, "message": "neurons used up"}]}).encode()
    with pytest.raises(UpstreamError) as raised:
        WAI_SPEECH.audio_from(failed, {})
    assert raised.value.category is ErrorCategory.QUOTA_EXCEEDED
    with pytest.raises(UpstreamError) as raised:
        WAI_SPEECH.audio_from(json.dumps(envelope({})).encode(), {})
    assert raised.value.category is ErrorCategory.SERVER_ERROR


# ---- Gemini speech ------------------------------------------------------------------------------------


def test_gemini_speech_request():
    body = {"model": "m", "input": "Hello", "voice": "nova", "instructions": "Whisper"}
    request = GEMINI_SPEECH.build_request(body, "gemini-2.5-flash-preview-tts", GEMINI)
    assert request.url == ("https://generativelanguage.googleapis.com/v1beta/models/"
                           "gemini-2.5-flash-preview-tts:generateContent")
    assert request.headers["x-goog-api-key"] == "gm-key"
    assert json.loads(request.body) == {
        "contents": [{"role": "user", "parts": [{"text": "Whisper: Hello"}]}],
        "generationConfig": {"responseModalities": ["AUDIO"],
                             "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}}}
    assert GEMINI_SPEECH.content_type(body) == "audio/wav"  # the default: Gemini cannot make mp3
    assert voice_name("Charon") == "Charon" and voice_name("ECHO") == "Charon"


@pytest.mark.parametrize(("extra", "param"), [({"response_format": "mp3"}, "response_format"),
                                              ({"response_format": "flac"}, "response_format"),
                                              ({"speed": 0.5}, "speed")])
def test_gemini_speech_refusals(extra, param):
    with pytest.raises(UpstreamError) as raised:
        GEMINI_SPEECH.build_request({"model": "m", "input": "x", "voice": "Kore", **extra}, "g", GEMINI)
    assert (raised.value.status, raised.value.param) == (400, param)


def gemini_answer(pcm: bytes, mime: str = "audio/L16;codec=pcm;rate=24000") -> bytes:
    return json.dumps({"candidates": [{"content": {"parts": [{"inlineData": {
        "mimeType": mime, "data": base64.b64encode(pcm).decode()}}]}, "finishReason": "STOP"}]}).encode()


def test_gemini_speech_wav_wraps_the_pcm_and_pcm_is_as_is():
    pcm = bytes(range(200))
    made = GEMINI_SPEECH.audio_from(gemini_answer(pcm, "audio/L16;codec=pcm;rate=16000"), {"input": "x"})
    assert made[44:] == pcm
    assert struct.unpack("<4sI4s4sIHHIIHH4sI", made[:44]) == (
        b"RIFF", 36 + len(pcm), b"WAVE", b"fmt ", 16, 1, 1, 16000, 32000, 2, 16, b"data", len(pcm))
    assert GEMINI_SPEECH.audio_from(gemini_answer(pcm), {"response_format": "pcm"}) == pcm
    assert wav(b"", 24000)[:4] == b"RIFF"


def test_gemini_speech_blocked_or_empty_answers():
    blocked = json.dumps({"promptFeedback": {"blockReason": "SAFETY"}}).encode()
    with pytest.raises(UpstreamError) as raised:
        GEMINI_SPEECH.audio_from(blocked, {})
    assert raised.value.category is ErrorCategory.CONTENT_FILTER
    text_only = json.dumps({"candidates": [{"content": {"parts": [{"text": "no audio"}]}}]}).encode()
    with pytest.raises(UpstreamError) as raised:
        GEMINI_SPEECH.audio_from(text_only, {})
    assert raised.value.category is ErrorCategory.SERVER_ERROR


# ---- the binding's binary results ----------------------------------------------------------------------


@pytest.mark.parametrize(("head", "media_type"), [
    (b"\x89PNG\r\n\x1a\n....", "image/png"), (b"\xff\xd8\xff\xe0", "image/jpeg"), (b"ID3\x04", "audio/mpeg"),
    (b"\xff\xfb\x90\x00", "audio/mpeg"), (b"\xff\xf1\x50\x80", "audio/aac"), (b"OggS\x00", "audio/ogg"),
    (b"fLaC", "audio/flac"), (b"RIFF\x00\x00\x00\x00WAVEfmt ", "audio/wav"), (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (b"\x00\x01", "application/octet-stream"), (b"", "application/octet-stream"),
])
def test_binary_content_type(head, media_type):
    assert binary_content_type(head) == media_type


# ---- the vision check ----------------------------------------------------------------------------------


def target(vision: int | None) -> Target:
    entry = None if vision is None else {"supports_vision": vision, "modality": "chat"}
    return Target("p", "openai", "m", "p/m", entry)


IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}


def test_an_image_for_a_text_only_model_names_the_part():
    messages = [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "t"}, IMAGE]}]
    with pytest.raises(InvalidRequestError) as raised:
        require_vision(target(0), messages)
    assert raised.value.param == "messages[1].content[1]" and raised.value.code == "model_not_supported"


def test_vision_models_unlisted_models_and_text_parts_pass():
    require_vision(target(1), [{"role": "user", "content": [IMAGE]}])
    require_vision(target(None), [{"role": "user", "content": [IMAGE]}])
    require_vision(target(0), [{"role": "user", "content": [{"type": "text", "text": "t"}]}, {"role": "user", "content": "x"}])
