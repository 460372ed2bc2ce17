"""Speech-to-text transforms, one block per provider: the upload each adapter builds (URL, auth, fields,
file), how it reads the provider's answer into the normalized transcript, and its error mapping; plus the
modality check. Plain Python (these also run inside Pyodide)."""

from __future__ import annotations

import base64
import json

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.multipart import FilePart, Form, parse_form
from gateway.pipeline.catalog import require_modality
from gateway.pipeline.context import Target
from gateway.providers import registry
from gateway.providers.base import Endpoint
from gateway.providers.elevenlabs.transcription import TRANSCRIPTION as ELEVENLABS
from gateway.providers.gemini.transcription import INSTRUCTION, TRANSCRIPTION as GEMINI, mime_type
from gateway.providers.groq.transcription import TRANSCRIPTION as GROQ
from gateway.providers.openai.transcription import TRANSCRIPTION as OPENAI
from gateway.providers.workers_ai.transcription import TRANSCRIPTION as WORKERS_AI
from gateway.transcription.request import transcription_request
from gateway.transcription.transcript import Segment, Word, render

AUDIO = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(range(40))


def make_request(**fields: str | list[str]):
    form = Form(files={"file": FilePart("talk.wav", "audio/wav", AUDIO)})
    for name, value in {"model": "m", **fields}.items():
        form.fields[name] = value if isinstance(value, list) else [value]
    return transcription_request(form, 10**6)


def sent_form(built):
    form = parse_form(built.headers["content-type"], built.body)
    return {name: values if len(values) > 1 else values[0] for name, values in form.fields.items()}, form.files


def test_registry_offers_transcription_where_expected():
    offered = {m.name for m in registry.all_manifests() if m.transcription is not None}
    assert offered == {"openai", "groq", "elevenlabs", "gemini", "workers_ai"}


# ---- OpenAI / Groq ---------------------------------------------------------------------------------


def test_openai_whisper_upload():
    request = make_request(language="en", prompt="Names: Zoë", temperature="0.3",
                           **{"timestamp_granularities[]": ["word", "segment"], "include[]": "logprobs"})
    built = OPENAI.build_request(request, "whisper-1", Endpoint("https://api.openai.com/v1/", "sk-test"))
    assert (built.method, built.url) == ("POST", "https://api.openai.com/v1/audio/transcriptions")
    assert built.headers["authorization"] == "Bearer sk-test"
    fields, files = sent_form(built)
    assert fields == {"model": "whisper-1", "response_format": "verbose_json", "language": "en",
                      "prompt": "Names: Zoë", "temperature": "0.3", "timestamp_granularities[]": ["word", "segment"],
                      "include[]": "logprobs"}
    assert files["file"] == FilePart("talk.wav", "audio/wav", AUDIO)


def test_gpt_4o_transcribe_asks_json_and_refuses_timestamp_formats():
    built = OPENAI.build_request(make_request(response_format="text"), "gpt-4o-transcribe", Endpoint("https://x/v1", "k"))
    assert sent_form(built)[0]["response_format"] == "json"
    for fmt in ("verbose_json", "srt", "vtt"):
        with pytest.raises(UpstreamError) as caught:
            OPENAI.build_request(make_request(response_format=fmt), "gpt-4o-mini-transcribe", Endpoint("https://x/v1", "k"))
        assert caught.value.status == 400 and caught.value.param == "response_format"


def test_groq_uses_its_base_and_verbose_json():
    built = GROQ.build_request(make_request(), "whisper-large-v3-turbo", Endpoint("https://api.groq.com/openai/v1", "gsk"))
    assert built.url == "https://api.groq.com/openai/v1/audio/transcriptions"
    assert sent_form(built)[0]["response_format"] == "verbose_json"


def test_openai_verbose_answer_read_and_passed_through():
    answer = {"task": "transcribe", "language": "english", "duration": 8.47, "text": "Hello world.",
              "segments": [{"id": 0, "seek": 0, "start": 0.0, "end": 8.47, "text": " Hello world.", "avg_logprob": -0.2}],
              "words": [{"word": "Hello", "start": 0.1, "end": 0.5}], "usage": {"type": "duration", "seconds": 9}}
    transcript = OPENAI.parse_response(json.dumps(answer).encode(), make_request(response_format="verbose_json"))
    assert (transcript.text, transcript.language, transcript.duration, transcript.billed_seconds) == \
        ("Hello world.", "english", 8.47, 9.0)
    assert transcript.segments == [Segment(0.0, 8.47, " Hello world.")]
    assert transcript.words == [Word("Hello", 0.1, 0.5)]
    assert render(transcript, make_request(response_format="verbose_json"))[0] == answer
    assert render(transcript, make_request())[0] == {"text": "Hello world.", "usage": {"type": "duration", "seconds": 9}}


def test_openai_token_usage_read():
    answer = {"text": "Hi.", "usage": {"type": "tokens", "input_tokens": 14, "output_tokens": 45, "total_tokens": 59,
                                       "input_token_details": {"text_tokens": 0, "audio_tokens": 14}}}
    transcript = OPENAI.parse_response(json.dumps(answer).encode(), make_request())
    assert (transcript.usage.input_tokens, transcript.usage.output_tokens) == (14, 45)
    assert render(transcript, make_request())[0] == answer  # json asked, json answered: passed through


@pytest.mark.parametrize("body", [b"not json", b'{"no_text": 1}', b"[]"])
def test_openai_malformed_answer_is_a_server_error(body):
    with pytest.raises(UpstreamError) as caught:
        OPENAI.parse_response(body, make_request())
    assert caught.value.category is ErrorCategory.SERVER_ERROR


def test_openai_errors_keep_retry_after():
    error = OPENAI.parse_error(429, {"retry-after": "3"}, json.dumps(
        {"error": {"message": "Rate limit", "type": "requests", "code": "rate_limit_exceeded"}}).encode())
    assert error.category is ErrorCategory.RATE_LIMIT and error.headers["retry-after"] == "3"


# ---- ElevenLabs ------------------------------------------------------------------------------------


def test_elevenlabs_upload():
    request = make_request(language="de", prompt="dropped", temperature="0.5")
    built = ELEVENLABS.build_request(request, "scribe_v1", Endpoint("https://api.elevenlabs.io/v1", "xi-test"))
    assert built.url == "https://api.elevenlabs.io/v1/speech-to-text"
    assert built.headers["xi-api-key"] == "xi-test" and "authorization" not in built.headers
    fields, files = sent_form(built)
    assert fields == {"model_id": "scribe_v1", "timestamps_granularity": "word", "language_code": "de", "temperature": "0.5"}
    assert files["file"].data == AUDIO


def test_elevenlabs_answer_words_without_spacing_and_sentence_segments():
    answer = {"language_code": "eng", "language_probability": 0.99, "text": "Hi there. Bye.", "words": [
        {"text": "Hi", "start": 0.1, "end": 0.3, "type": "word"}, {"text": " ", "start": 0.3, "end": 0.4, "type": "spacing"},
        {"text": "there.", "start": 0.4, "end": 0.9, "type": "word"},
        {"text": "(laughs)", "start": 0.9, "end": 1.2, "type": "audio_event"},
        {"text": "Bye.", "start": 1.3, "end": 1.6, "type": "word"}]}
    transcript = ELEVENLABS.parse_response(json.dumps(answer).encode(), make_request())
    assert transcript.text == "Hi there. Bye." and transcript.language == "eng" and transcript.duration is None
    assert [w.word for w in transcript.words] == ["Hi", "there.", "Bye."]
    assert transcript.segments == [Segment(0.1, 0.9, "Hi there."), Segment(1.3, 1.6, "Bye.")]


def test_elevenlabs_errors():
    busy = ELEVENLABS.parse_error(429, {}, json.dumps({"detail": {"status": "system_busy", "message": "busy"}}).encode())
    assert busy.category is ErrorCategory.RATE_LIMIT
    invalid = ELEVENLABS.parse_error(422, {}, json.dumps({"detail": [{"loc": ["body", "file"], "msg": "Field required"}]}).encode())
    assert invalid.category is ErrorCategory.INVALID_REQUEST and invalid.message == "Field required"


# ---- Gemini ----------------------------------------------------------------------------------------


def test_gemini_generate_content_with_inline_audio():
    request = make_request(language="fr", prompt="Acme Corp")
    built = GEMINI.build_request(request, "models/gemini-2.5-flash", Endpoint("https://generativelanguage.googleapis.com", "g-key"))
    assert built.url == "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    assert built.headers["x-goog-api-key"] == "g-key"
    body = json.loads(built.body)
    text, audio = body["contents"][0]["parts"]
    assert text["text"].startswith(INSTRUCTION) and "fr" in text["text"] and "Acme Corp" in text["text"]
    assert audio["inlineData"] == {"mimeType": "audio/wav", "data": base64.b64encode(AUDIO).decode()}
    assert body["generationConfig"] == {"temperature": 0.0}


@pytest.mark.parametrize(("content_type", "filename", "expected"), [
    ("audio/x-m4a", "a.bin", "audio/x-m4a"), ("application/octet-stream", "talk.MP3", "audio/mp3"),
    ("application/octet-stream", "talk.flac", "audio/flac"), ("application/octet-stream", "noext", "audio/mpeg"),
])
def test_gemini_mime_type(content_type, filename, expected):
    assert mime_type(content_type, filename) == expected


def test_gemini_answer_text_and_tokens():
    answer = {"candidates": [{"content": {"parts": [{"text": "thinking", "thought": True}, {"text": " Hello\n world. "}]},
                              "finishReason": "STOP"}],
              "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 5, "thoughtsTokenCount": 3}}
    transcript = GEMINI.parse_response(json.dumps(answer).encode(), make_request(language="en"))
    assert transcript.text == "Hello world." and transcript.language == "en"
    assert (transcript.usage.input_tokens, transcript.usage.output_tokens, transcript.usage.reasoning_tokens) == (120, 8, 3)


def test_gemini_answer_without_text_is_a_server_error():
    blocked = {"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 3}}
    with pytest.raises(UpstreamError) as caught:
        GEMINI.parse_response(json.dumps(blocked).encode(), make_request())
    assert caught.value.category is ErrorCategory.SERVER_ERROR


def test_gemini_errors():
    error = GEMINI.parse_error(429, {}, json.dumps({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "4s"}]}}).encode())
    assert error.category is ErrorCategory.RATE_LIMIT and error.headers["retry-after"] == "4"


# ---- Workers AI ------------------------------------------------------------------------------------


ACCOUNT_BASE = "https://api.cloudflare.com/client/v4/accounts/acc/ai/run"


def test_workers_ai_turbo_takes_base64_and_options():
    built = WORKERS_AI.build_request(make_request(language="es", prompt="hola", temperature="0.4"),
                                     "@cf/openai/whisper-large-v3-turbo", Endpoint(ACCOUNT_BASE, "cf-token"))
    assert built.url == ACCOUNT_BASE + "/@cf/openai/whisper-large-v3-turbo"
    assert built.headers["authorization"] == "Bearer cf-token"
    assert json.loads(built.body) == {"audio": base64.b64encode(AUDIO).decode(), "task": "transcribe", "language": "es",
                                      "initial_prompt": "hola"}


def test_workers_ai_whisper_takes_a_byte_array():
    built = WORKERS_AI.build_request(make_request(language="es"), "@cf/openai/whisper", Endpoint(ACCOUNT_BASE, "t"))
    assert json.loads(built.body) == {"audio": list(AUDIO)}


def test_workers_ai_turbo_answer():
    result = {"transcription_info": {"language": "en", "duration": 3.5}, "text": " Hi there. Bye.", "word_count": 3,
              "segments": [{"start": 0.0, "end": 1.0, "text": "Hi there.", "words": [{"word": "Hi", "start": 0.0, "end": 0.4},
                                                                                  {"word": "there.", "start": 0.4, "end": 1.0}]},
                           {"start": 2.0, "end": 3.5, "text": "Bye.", "words": [{"word": "Bye.", "start": 2.0, "end": 3.5}]}],
              "vtt": "WEBVTT"}
    transcript = WORKERS_AI.parse_response(json.dumps({"result": result, "success": True}).encode(), make_request())
    assert (transcript.text, transcript.language, transcript.duration) == ("Hi there. Bye.", "en", 3.5)
    assert transcript.segments == [Segment(0.0, 1.0, "Hi there."), Segment(2.0, 3.5, "Bye.")]
    assert [w.word for w in transcript.words] == ["Hi", "there.", "Bye."]


def test_workers_ai_whisper_answer_has_words_and_no_duration():
    result = {"text": "It is a good day", "word_count": 5, "words": [{"word": "It", "start": 0.56, "end": 1.0},
                                                                     {"word": "day", "start": 1.32, "end": 1.46}]}
    transcript = WORKERS_AI.parse_response(json.dumps({"result": result, "success": True}).encode(), make_request())
    assert transcript.duration is None and transcript.segments == [Segment(0.56, 1.46, "It day")]


def test_workers_ai_errors():
    error = WORKERS_AI.parse_error(429, {}, json.dumps({"success": False, "errors": [{"code": 3040, "message": "Capacity"}]}).encode())
    assert error.category is ErrorCategory.RATE_LIMIT


# ---- the modality check ----------------------------------------------------------------------------


def test_a_chat_model_is_refused_naming_model():
    chat = Target("openai", "openai", "gpt-4o-mini", "openai/gpt-4o-mini", {"modality": "chat"})
    with pytest.raises(InvalidRequestError) as caught:
        require_modality(chat, "stt", "transcription")
    assert caught.value.param == "model" and "speech-to-text" in caught.value.message
    require_modality(Target("openai", "openai", "whisper-1", "openai/whisper-1", {"modality": "stt"}), "stt", "transcription")
