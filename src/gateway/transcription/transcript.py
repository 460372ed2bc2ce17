"""One normalized transcript, whatever the provider answered, and the one renderer of OpenAI's
`response_format`s: `json` {text[, usage]}, `text` (text/plain), `verbose_json` {task, language,
duration, text, segments[, words][, usage]}, `srt` and `vtt` (one cue per segment).

An OpenAI-format provider's own answer is passed through (`passthrough`) when it is already in the
format the client asked for: it keeps fields only OpenAI has (segment log-probabilities, `logprobs`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from gateway.transcription.request import TranscriptionRequest
from gateway.usage import Usage


@dataclass(frozen=True, slots=True)
class Word:
    word: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class Segment:
    start: float
    end: float
    text: str


@dataclass(slots=True)
class Transcript:
    text: str
    language: str | None = None
    duration: float | None = None          # seconds of audio, as the provider reported them
    segments: list[Segment] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    billed_seconds: float | None = None    # the provider's own billed duration (OpenAI's usage.seconds)
    usage: Usage | None = None             # token-billed models (gpt-4o-*-transcribe, Gemini)
    passthrough: dict[str, Any] | None = None
    passthrough_format: str | None = None  # the response_format `passthrough` is in


JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain; charset=utf-8"
_SENTENCE_END = re.compile(r"[.!?…。！？]$")


def segments_from_words(words: list[Word]) -> list[Segment]:
    """Sentences as segments: words joined until one ends with . ! ? (providers that time only words)."""
    segments: list[Segment] = []
    current: list[Word] = []
    for word in words:
        current.append(word)
        if _SENTENCE_END.search(word.word.strip()):
            segments.append(_segment(current))
            current = []
    if current:
        segments.append(_segment(current))
    return segments


def _segment(words: list[Word]) -> Segment:
    return Segment(words[0].start, words[-1].end, " ".join(w.word.strip() for w in words))


def render(transcript: Transcript, request: TranscriptionRequest) -> tuple[dict[str, Any] | str, str]:
    """(answer, media type) in the client's `response_format`: a JSON object, or text."""
    fmt = request.response_format
    if fmt == "text":
        return transcript.text + "\n", TEXT_TYPE
    if fmt in ("srt", "vtt"):
        return _subtitles(transcript, fmt), TEXT_TYPE
    if transcript.passthrough is not None and transcript.passthrough_format == fmt:
        return transcript.passthrough, JSON_TYPE
    payload: dict[str, Any] = {"text": transcript.text}
    if fmt == "verbose_json":
        payload = {
            "task": "transcribe",
            "language": transcript.language or "",
            "duration": round(transcript.duration or 0.0, 3),
            "text": transcript.text,
            "segments": [
                {"id": index, "seek": 0, "start": s.start, "end": s.end, "text": s.text}
                for index, s in enumerate(cues(transcript))
            ],
        }
        if request.wants_words:
            payload["words"] = [{"word": w.word, "start": w.start, "end": w.end} for w in transcript.words]
    usage = usage_object(transcript)
    if usage is not None:
        payload["usage"] = usage
    return payload, JSON_TYPE


def usage_object(transcript: Transcript) -> dict[str, Any] | None:
    """OpenAI's `usage`: tokens for token-billed models, else the audio's whole seconds."""
    if transcript.usage is not None:
        usage = transcript.usage
        return {"type": "tokens", "input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens,
                "total_tokens": usage.input_tokens + usage.output_tokens}
    seconds = transcript.billed_seconds if transcript.billed_seconds is not None else transcript.duration
    if seconds is None:
        return None
    return {"type": "duration", "seconds": math.ceil(seconds)}


def cues(transcript: Transcript) -> list[Segment]:
    """The segments, or the words grouped into sentences, or the whole text as one cue."""
    if transcript.segments:
        return transcript.segments
    if transcript.words:
        return segments_from_words(transcript.words)
    if not transcript.text:
        return []
    return [Segment(0.0, round(transcript.duration or 0.0, 3), transcript.text)]


def _subtitles(transcript: Transcript, fmt: str) -> str:
    blocks = []
    for index, cue in enumerate(cues(transcript), start=1):
        span = f"{_timestamp(cue.start, fmt)} --> {_timestamp(cue.end, fmt)}"
        text = cue.text.strip()
        blocks.append(f"{index}\n{span}\n{text}\n" if fmt == "srt" else f"{span}\n{text}\n")
    body = "\n".join(blocks)
    return "WEBVTT\n\n" + body if fmt == "vtt" else body


def _timestamp(seconds: float, fmt: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    separator = "," if fmt == "srt" else "."
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"
