"""The OpenAI `/v1/audio/transcriptions` upload, validated: a 400 naming the field for anything wrong."""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.errors import InvalidRequestError, PayloadTooLargeError
from gateway.multipart import FilePart, Form

RESPONSE_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
GRANULARITIES = ("word", "segment")
# Fields read here; any other text field is kept in `extra` (OpenAI-format providers get it as it is).
_KNOWN = {"model", "language", "prompt", "response_format", "temperature", "timestamp_granularities[]",
          "timestamp_granularities", "stream"}


@dataclass(frozen=True, slots=True)
class TranscriptionRequest:
    model: str
    file: FilePart
    response_format: str = "json"
    language: str | None = None
    prompt: str | None = None
    temperature: float | None = None
    timestamp_granularities: tuple[str, ...] = ()
    extra: dict[str, list[str]] = field(default_factory=dict)

    @property
    def wants_words(self) -> bool:
        return "word" in self.timestamp_granularities


def transcription_request(form: Form, max_file_bytes: int) -> TranscriptionRequest:
    upload = form.files.get("file")
    if upload is None:
        raise InvalidRequestError("You must provide an audio `file` (a multipart file part named 'file').", param="file")
    if not upload.data:
        raise InvalidRequestError("The uploaded `file` is empty.", param="file")
    if len(upload.data) > max_file_bytes:
        raise PayloadTooLargeError(f"The uploaded file is larger than {max_file_bytes} bytes.", param="file")
    model = (form.value("model") or "").strip()
    if not model:
        raise InvalidRequestError("You must provide a `model` (e.g. 'openai/whisper-1').", param="model")
    response_format = (form.value("response_format") or "json").strip()
    if response_format not in RESPONSE_FORMATS:
        raise InvalidRequestError(
            f"Invalid response_format '{response_format}'; supported: {', '.join(RESPONSE_FORMATS)}.",
            param="response_format",
        )
    if (form.value("stream") or "false").strip().lower() not in ("false", "0", ""):
        raise InvalidRequestError("Streamed transcriptions are not supported by this gateway.", param="stream")
    granularities = tuple(
        value.strip() for name in ("timestamp_granularities[]", "timestamp_granularities")
        for value in form.fields.get(name, ()) if value.strip()
    )
    for value in granularities:
        if value not in GRANULARITIES:
            raise InvalidRequestError(
                f"Invalid timestamp granularity '{value}'; supported: word, segment.", param="timestamp_granularities"
            )
    return TranscriptionRequest(
        model=model,
        file=upload,
        response_format=response_format,
        language=(form.value("language") or "").strip() or None,
        prompt=form.value("prompt") or None,
        temperature=_temperature(form.value("temperature")),
        timestamp_granularities=granularities,
        extra={name: values for name, values in form.fields.items() if name not in _KNOWN},
    )


def _temperature(raw: str | None) -> float | None:
    if raw is None or not raw.strip():
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise InvalidRequestError(f"`temperature` must be a number between 0 and 1, got {raw!r}.", param="temperature")
    return value
