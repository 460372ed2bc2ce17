"""Text-to-speech transforms: OpenAI's passthrough to `/audio/speech`, ElevenLabs' `/v1/text-to-speech/
{voice_id}/stream`, content types, ElevenLabs error bodies, per-character cost and the modality check.
Plain Python (these also run inside Pyodide)."""

from __future__ import annotations

import json

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.pipeline.catalog import require_modality
from gateway.pipeline.context import Target
from gateway.pipeline.cost import speech_cost
from gateway.providers import registry
from gateway.providers.base import Endpoint
from gateway.providers.elevenlabs.speech import SPEECH as ELEVENLABS
from gateway.providers.openai.speech import SPEECH as OPENAI

OPENAI_ENDPOINT = Endpoint(base_url="https://api.openai.com/v1/", api_key="sk-test")
ELEVEN_ENDPOINT = Endpoint(base_url="https://api.elevenlabs.io", api_key="xi-test")


def test_registry_offers_speech_where_expected():
    offered = {m.name for m in registry.all_manifests() if m.speech is not None}
    assert {"openai", "elevenlabs"} <= offered
    assert registry.get("elevenlabs").chat is None
    assert registry.get("elevenlabs").default_base_url == "https://api.elevenlabs.io"


def test_openai_body_passed_through_with_upstream_model():
    body = {"model": "openai/tts-1", "input": "Hello", "voice": "alloy", "response_format": "wav", "speed": 1.5,
            "instructions": "cheerful"}
    request = OPENAI.build_request(body, "tts-1", OPENAI_ENDPOINT)
    assert request.method == "POST"
    assert request.url == "https://api.openai.com/v1/audio/speech"
    assert request.headers["authorization"] == "Bearer sk-test"
    assert json.loads(request.body) == {**body, "model": "tts-1"}


@pytest.mark.parametrize("fmt, media", [(None, "audio/mpeg"), ("mp3", "audio/mpeg"), ("opus", "audio/opus"),
                                        ("aac", "audio/aac"), ("flac", "audio/flac"), ("wav", "audio/wav"),
                                        ("pcm", "audio/pcm")])
def test_openai_content_types(fmt, media):
    body = {"model": "tts-1", "input": "x", "voice": "alloy"}
    if fmt:
        body["response_format"] = fmt
    assert OPENAI.content_type(body) == media


def test_openai_errors_use_the_openai_mapping():
    error = OPENAI.parse_error(429, {"retry-after": "3"}, b'{"error": {"message": "slow down", "type": "requests"}}')
    assert error.category is ErrorCategory.RATE_LIMIT and error.status == 429


def test_elevenlabs_request_mapping():
    body = {"model": "elevenlabs/eleven_flash_v2_5", "input": "Bonjour", "voice": "JBFqnCBsd6RMkjVDRZzb",
            "speed": 1.1, "instructions": "dropped"}
    request = ELEVENLABS.build_request(body, "eleven_flash_v2_5", ELEVEN_ENDPOINT)
    assert request.url == ("https://api.elevenlabs.io/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream"
                           "?output_format=mp3_44100_128")
    assert request.headers["xi-api-key"] == "xi-test"
    assert "authorization" not in request.headers
    assert json.loads(request.body) == {"text": "Bonjour", "model_id": "eleven_flash_v2_5",
                                        "voice_settings": {"speed": 1.1}}


def test_elevenlabs_base_url_with_v1_and_voice_quoted():
    endpoint = Endpoint(base_url="http://127.0.0.1:9/elevenlabs/v1/", api_key="k")
    request = ELEVENLABS.build_request({"input": "a", "voice": "my voice/1"}, "eleven_multilingual_v2", endpoint)
    assert request.url == "http://127.0.0.1:9/elevenlabs/v1/text-to-speech/my%20voice%2F1/stream?output_format=mp3_44100_128"
    assert json.loads(request.body) == {"text": "a", "model_id": "eleven_multilingual_v2"}


@pytest.mark.parametrize("fmt, output_format, media", [
    ("mp3", "mp3_44100_128", "audio/mpeg"), ("opus", "opus_48000_128", "audio/opus"),
    ("wav", "wav_44100", "audio/wav"), ("pcm", "pcm_24000", "audio/pcm"),
])
def test_elevenlabs_output_formats(fmt, output_format, media):
    body = {"input": "a", "voice": "v", "response_format": fmt}
    request = ELEVENLABS.build_request(body, "eleven_multilingual_v2", ELEVEN_ENDPOINT)
    assert request.url.endswith(f"?output_format={output_format}")
    assert ELEVENLABS.content_type(body) == media


def test_elevenlabs_explicit_output_format_wins():
    body = {"input": "a", "voice": "v", "response_format": "wav", "output_format": "ulaw_8000"}
    assert ELEVENLABS.build_request(body, "m", ELEVEN_ENDPOINT).url.endswith("?output_format=ulaw_8000")
    assert ELEVENLABS.content_type(body) == "audio/basic"


@pytest.mark.parametrize("fmt", ["aac", "flac"])
def test_elevenlabs_refuses_formats_it_lacks(fmt):
    with pytest.raises(UpstreamError) as caught:
        ELEVENLABS.build_request({"input": "a", "voice": "v", "response_format": fmt}, "m", ELEVEN_ENDPOINT)
    assert caught.value.status == 400 and caught.value.param == "response_format"


def test_elevenlabs_refuses_speed_out_of_its_range():
    with pytest.raises(UpstreamError) as caught:
        ELEVENLABS.build_request({"input": "a", "voice": "v", "speed": 2.0}, "m", ELEVEN_ENDPOINT)
    assert caught.value.status == 400 and caught.value.param == "speed"


@pytest.mark.parametrize("status, body, category, http", [
    (401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}, ErrorCategory.AUTH, 502),
    (429, {"detail": {"status": "too_many_concurrent_requests", "message": "busy"}}, ErrorCategory.RATE_LIMIT, 429),
    (401, {"detail": {"status": "quota_exceeded", "message": "no credits"}}, ErrorCategory.QUOTA_EXCEEDED, 429),
    (404, {"detail": {"status": "voice_not_found", "message": "no voice"}}, ErrorCategory.INVALID_REQUEST, 400),
    (400, {"detail": {"status": "model_not_found", "message": "no model"}}, ErrorCategory.MODEL_NOT_FOUND, 404),
    (422, {"detail": [{"loc": ["body", "text"], "msg": "Field required", "type": "missing"}]},
     ErrorCategory.INVALID_REQUEST, 400),
    (500, {"detail": {"status": "internal_server_error", "message": "oops"}}, ErrorCategory.SERVER_ERROR, 502),
])
def test_elevenlabs_errors(status, body, category, http):
    error = ELEVENLABS.parse_error(status, {"retry-after": "2"}, json.dumps(body).encode())
    assert error.category is category
    assert error.status == http
    if category is ErrorCategory.RATE_LIMIT:
        assert error.headers["retry-after"] == "2"
    if isinstance(body["detail"], dict):
        assert str(error) == body["detail"]["message"] or body["detail"]["message"] in error.envelope()["error"]["message"]


def test_elevenlabs_voice_not_found_names_voice():
    error = ELEVENLABS.parse_error(404, {}, b'{"detail": {"status": "voice_not_found", "message": "x"}}')
    assert error.param == "voice"


def test_speech_cost_per_million_characters():
    assert speech_cost(1000, {"tts_usd_per_mchar": 15.0})[:2] == (0.015, "priced")
    assert speech_cost(10, {"tts_usd_per_mchar": None})[:2] == (None, "unpriced")
    assert speech_cost(10, None)[:2] == (None, "unpriced")


def test_chat_model_refused_for_speech():
    target = Target("openai", "openai", "gpt-4o-mini", "openai/gpt-4o-mini", {"modality": "chat"})
    with pytest.raises(InvalidRequestError) as caught:
        require_modality(target, "tts", "text-to-speech")
    assert caught.value.param == "model"
    require_modality(Target("openai", "openai", "tts-1", "openai/tts-1", {"modality": "tts"}), "tts", "text-to-speech")
