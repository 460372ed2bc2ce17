"""Speech-to-text core, plain Python (also runs inside Pyodide): multipart parsing and encoding, the
upload's validation (400 naming the field, 413), WAV duration arithmetic, and the one renderer of
OpenAI's response formats."""

from __future__ import annotations

import io
import struct
import wave

import pytest

from gateway.errors import InvalidRequestError, PayloadTooLargeError
from gateway.multipart import FilePart, Form, encode_form, parse_form
from gateway.pipeline.cost import transcription_cost
from gateway.transcription.request import transcription_request
from gateway.transcription.transcript import Segment, Transcript, Word, render, segments_from_words
from gateway.transcription.wav import audio_seconds, wav_seconds
from gateway.usage import Usage

AUDIO = bytes(range(256)) * 8 + b"\r\n--not-a-boundary\r\n"


def wav_bytes(seconds: float, rate: int = 8000, width: int = 2, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(b"\x01" * int(seconds * rate) * width * channels)
    return buffer.getvalue()


def upload(fields: list[tuple[str, str]], data: bytes = AUDIO, filename: str = "speech.wav") -> tuple[str, bytes]:
    return encode_form(fields, [("file", FilePart(filename, "audio/wav", data))])


# ---- multipart -------------------------------------------------------------------------------------


def test_multipart_round_trip_keeps_binary_bytes_and_repeated_fields():
    content_type, body = upload([("model", "openai/whisper-1"), ("timestamp_granularities[]", "word"),
                                 ("timestamp_granularities[]", "segment"), ("prompt", "Zürich, naïve")])
    form = parse_form(content_type, body)
    assert form.files["file"] == FilePart("speech.wav", "audio/wav", AUDIO)
    assert form.fields["timestamp_granularities[]"] == ["word", "segment"]
    assert form.value("prompt") == "Zürich, naïve"


def test_multipart_boundary_never_occurs_in_the_content():
    content_type, _ = upload([("model", "m")])
    boundary = content_type.split("boundary=")[1]
    tricky = b"--" + boundary.encode() + b"\r\n"
    content_type2, body = upload([("model", "m")], data=tricky)
    assert parse_form(content_type2, body).files["file"].data == tricky


def test_quotes_in_a_filename_survive():
    content_type, body = upload([("model", "m")], filename='my "talk".wav')
    assert parse_form(content_type, body).files["file"].filename == "my %22talk%22.wav"


@pytest.mark.parametrize("content_type", [None, "application/json", "application/x-www-form-urlencoded",
                                          "multipart/form-data"])
def test_not_multipart_is_400(content_type):
    with pytest.raises(InvalidRequestError) as caught:
        parse_form(content_type, b'{"model": "whisper-1"}')
    assert caught.value.status == 400


def test_truncated_or_garbled_multipart_is_400():
    content_type, body = upload([("model", "m")])
    for broken in (body[:-20], b"garbage that is no multipart", b""):
        with pytest.raises(InvalidRequestError, match="malformed"):
            parse_form(content_type, broken)


def test_a_part_without_a_name_is_400():
    content_type, body = upload([("model", "m")])
    with pytest.raises(InvalidRequestError, match="malformed"):
        parse_form(content_type, body.replace(b'name="model"', b'nom="model"'))


# ---- the upload's validation -----------------------------------------------------------------------


def form_of(**fields: str) -> Form:
    form = Form(files={"file": FilePart("a.wav", "audio/wav", AUDIO)})
    for name, value in fields.items():
        form.fields[name] = [value]
    return form


def test_defaults_and_fields():
    request = transcription_request(form_of(model=" openai/whisper-1 ", language="de", temperature="0.2"), 10**6)
    assert (request.model, request.response_format, request.language, request.temperature) == \
        ("openai/whisper-1", "json", "de", 0.2)
    assert request.timestamp_granularities == () and not request.wants_words


def test_unknown_fields_are_kept_for_the_provider():
    form = form_of(model="m", chunking_strategy="auto")
    assert transcription_request(form, 10**6).extra == {"chunking_strategy": ["auto"]}


@pytest.mark.parametrize(("form", "param"), [
    (Form(fields={"model": ["m"]}), "file"),
    (Form(fields={"model": ["m"]}, files={"file": FilePart("a.wav", "audio/wav", b"")}), "file"),
    (form_of(), "model"),
    (form_of(model="  "), "model"),
    (form_of(model="m", response_format="mp3"), "response_format"),
    (form_of(model="m", temperature="hot"), "temperature"),
    (form_of(model="m", temperature="1.5"), "temperature"),
    (form_of(model="m", stream="true"), "stream"),
    (form_of(model="m", **{"timestamp_granularities[]": "sentence"}), "timestamp_granularities"),
])
def test_bad_uploads_are_400_naming_the_field(form, param):
    with pytest.raises(InvalidRequestError) as caught:
        transcription_request(form, 10**6)
    assert caught.value.param == param
    assert caught.value.envelope()["error"]["param"] == param


def test_a_file_over_the_cap_is_413():
    with pytest.raises(PayloadTooLargeError) as caught:
        transcription_request(form_of(model="m"), len(AUDIO) - 1)
    assert caught.value.status == 413 and caught.value.param == "file"


# ---- duration --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("seconds", "rate", "width", "channels"), [(2.0, 8000, 2, 1), (0.5, 44100, 2, 2), (3.0, 16000, 1, 1)])
def test_wav_duration_is_header_arithmetic(seconds, rate, width, channels):
    assert wav_seconds(wav_bytes(seconds, rate, width, channels)) == pytest.approx(seconds)


def test_wav_with_an_extra_chunk_and_a_streamed_size():
    data = wav_bytes(1.0)
    # A LIST chunk before `data`, and the data size left as 0xFFFFFFFF (as streaming encoders write).
    fmt_end = 12 + 8 + 16
    listed = data[:fmt_end] + b"LIST" + struct.pack("<I", 3) + b"abc\x00" + data[fmt_end:]
    data_at = listed.index(b"data")
    streamed = listed[:data_at + 4] + struct.pack("<I", 0xFFFFFFFF) + listed[data_at + 8:]
    assert wav_seconds(streamed) == pytest.approx(1.0)


def test_other_audio_is_estimated_at_128_kbit_per_second():
    assert wav_seconds(b"ID3" + bytes(100)) is None
    assert audio_seconds(bytes(32_000)) == (2.0, False)
    assert audio_seconds(wav_bytes(1.5)) == (pytest.approx(1.5), True)


# ---- cost ------------------------------------------------------------------------------------------


def test_cost_by_minutes_or_by_tokens():
    per_minute = {"stt_usd_per_minute": 0.006}
    assert transcription_cost(90.0, None, per_minute)[:2] == (pytest.approx(0.009), "priced")
    tokens = {"stt_usd_per_minute": 0.006, "input_usd_per_mtok": 6.0, "output_usd_per_mtok": 10.0}
    assert transcription_cost(90.0, Usage(input_tokens=1000, output_tokens=100), tokens)[:2] == (pytest.approx(0.007), "priced")
    assert transcription_cost(90.0, Usage(input_tokens=1000), per_minute)[:2] == (pytest.approx(0.009), "priced")
    assert transcription_cost(90.0, None, None)[:2] == (None, "unpriced")
    assert transcription_cost(90.0, None, {"stt_usd_per_minute": None})[:2] == (None, "unpriced")


# ---- rendering -------------------------------------------------------------------------------------


WORDS = [Word("Hello", 0.0, 0.5), Word("there.", 0.5, 1.0), Word("How", 1.2, 1.5), Word("are", 1.5, 1.8), Word("you?", 1.8, 2.25)]


def request_for(fmt: str, words: bool = False):
    form = form_of(model="m", response_format=fmt)
    if words:
        form.fields["timestamp_granularities[]"] = ["word"]
    return transcription_request(form, 10**6)


def test_words_become_sentence_segments():
    assert segments_from_words(WORDS) == [Segment(0.0, 1.0, "Hello there."), Segment(1.2, 2.25, "How are you?")]


def test_json_and_text():
    transcript = Transcript(text="Hello there. How are you?", duration=2.25, words=WORDS)
    assert render(transcript, request_for("json")) == (
        {"text": "Hello there. How are you?", "usage": {"type": "duration", "seconds": 3}}, "application/json")
    assert render(transcript, request_for("text")) == ("Hello there. How are you?\n", "text/plain; charset=utf-8")
    tokens = Transcript(text="Hi", usage=Usage(input_tokens=7, output_tokens=2))
    assert render(tokens, request_for("json"))[0]["usage"] == {"type": "tokens", "input_tokens": 7, "output_tokens": 2,
                                                               "total_tokens": 9}


def test_verbose_json_words_only_when_asked():
    transcript = Transcript(text="Hello there. How are you?", language="en", duration=2.25, words=WORDS)
    plain, _ = render(transcript, request_for("verbose_json"))
    assert plain["task"] == "transcribe" and plain["language"] == "en" and plain["duration"] == 2.25
    assert [(s["id"], s["start"], s["end"], s["text"]) for s in plain["segments"]] == \
        [(0, 0.0, 1.0, "Hello there."), (1, 1.2, 2.25, "How are you?")]
    assert "words" not in plain
    worded, _ = render(transcript, request_for("verbose_json", words=True))
    assert worded["words"][4] == {"word": "you?", "start": 1.8, "end": 2.25}


def test_srt_and_vtt():
    transcript = Transcript(text="Hello there. How are you?", duration=3725.5,
                            segments=[Segment(0.0, 1.0, "Hello there."), Segment(3723.25, 3725.5, " How are you?")])
    srt, media = render(transcript, request_for("srt"))
    assert media.startswith("text/plain")
    assert srt == "1\n00:00:00,000 --> 00:00:01,000\nHello there.\n\n2\n01:02:03,250 --> 01:02:05,500\nHow are you?\n"
    vtt, _ = render(transcript, request_for("vtt"))
    assert vtt == "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nHello there.\n\n01:02:03.250 --> 01:02:05.500\nHow are you?\n"


def test_text_without_timestamps_is_one_cue_over_the_audio():
    srt, _ = render(Transcript(text="Just text", duration=4.0), request_for("srt"))
    assert srt == "1\n00:00:00,000 --> 00:00:04,000\nJust text\n"


def test_passthrough_only_in_its_own_format():
    upstream = {"task": "transcribe", "language": "english", "duration": 1.0, "text": "x", "segments": [], "logprobs": []}
    transcript = Transcript(text="x", duration=1.0, passthrough=upstream, passthrough_format="verbose_json")
    assert render(transcript, request_for("verbose_json"))[0] is upstream
    assert render(transcript, request_for("json"))[0] == {"text": "x", "usage": {"type": "duration", "seconds": 1}}
