"""Speech-to-text wire formats on the emulator, as pure functions (no I/O): OpenAI / Groq
`/audio/transcriptions`, ElevenLabs `/v1/speech-to-text`, Gemini `generateContent` with inline audio,
Workers AI `@cf/openai/whisper-large-v3-turbo` and `@cf/openai/whisper`.

The transcript rule, so tests can compute what a route answers:

- **What an upload says** (`transcript_of`): audio this emulator's own text-to-speech produced (one of
  the recorded OpenAI `/v1/audio/speech` or ElevenLabs `/text-to-speech/{voice}` requests whose
  `audio_wire.audio_bytes` equals the upload) says that request's input text. Otherwise a WAV's sample
  bytes (every other upload: all its bytes, after an ID3 tag if it has one), decoded as UTF-8 — when they
  decode and are printable text, the transcript is that text. Markers are removed and whitespace
  collapsed in both cases. Anything else transcribes to `"Emulated transcript of N bytes of audio (H)."`,
  N its length and H the first 8 hex digits of its SHA-256.
- **Duration** (`duration_of`): a WAV's frames / frame rate (read with the stdlib `wave` module); other
  uploads len / 16,000 (128 kbit/s); rounded to 3 decimals.
- **Words**: the transcript split on whitespace, spread evenly over the duration (word i spans
  [i·d/n, (i+1)·d/n], 3 decimals). **Segments**: sentences (a word ending in . ! ? closes one).
- **Language**: the request's language when it gives one, else English in each provider's spelling
  (`english` for OpenAI/Groq verbose_json, `eng` for ElevenLabs, `en` for Workers AI).
- **Tokens**: audio tokens = ⌈10 × duration⌉ (OpenAI gpt-4o-*), ⌈32 × duration⌉ (Gemini, plus ⌈instruction
  characters / 4⌉ of text); output tokens = ⌈transcript characters / 4⌉.
- **Faults**: a `[[emulator:fault=NAME]]` marker anywhere in the uploaded bytes, or in `prompt`.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import io
import json
import math
import re
import wave

from scripts.emulator import audio_wire
from scripts.emulator.knobs import MARKER, strip_markers

ESTIMATE_BYTES_PER_SECOND = 16_000
OPENAI_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
JSON_ONLY_PREFIX = "gpt-4o"            # OpenAI's gpt-4o-*-transcribe answer only json and text
WORKERS_AI_MODELS = ("@cf/openai/whisper-large-v3-turbo", "@cf/openai/whisper", "@cf/openai/whisper-tiny-en")
_SENTENCE_END = re.compile(r"[.!?]$")


# ---- multipart (the stdlib's parser: independent of the gateway's) -------------------------------


def parse_multipart(content_type: str, raw: bytes) -> tuple[dict[str, list[str]], dict[str, tuple[str, str, bytes]]] | None:
    """(fields, files {name: (filename, content type, bytes)}) of a multipart/form-data body, or None."""
    if not content_type.lower().startswith("multipart/form-data") or "boundary=" not in content_type:
        return None
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + raw)
    if not message.is_multipart():
        return None
    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            return None
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, part.get_content_type(), payload)
        else:
            fields.setdefault(name, []).append(payload.decode("utf-8", "replace"))
    return fields, files


# ---- the transcript rule ---------------------------------------------------------------------------


def _wav(data: bytes) -> wave.Wave_read | None:
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    try:
        return wave.open(io.BytesIO(data), "rb")
    except Exception:  # the TTS rule's "wav" is a magic and a hash stream: not a readable file
        return None


_ELEVENLABS_TTS = re.compile(r"^/elevenlabs/v1/text-to-speech/([^/]+)(/stream)?$")


def spoken_by_tts(data: bytes, recorded: list[dict]) -> str | None:
    """The input text of the recorded text-to-speech request whose audio is `data`, newest first."""
    for sent in reversed(recorded):
        body, path = sent.get("body"), sent.get("path", "")
        if not isinstance(body, dict):
            continue
        if path == "/v1/audio/speech" and isinstance(body.get("input"), str):
            text, fmt, voice = body["input"], body.get("response_format") or "mp3", str(body.get("voice"))
        elif (found := _ELEVENLABS_TTS.match(path)) and isinstance(body.get("text"), str):
            query = dict(part.partition("=")[::2] for part in sent.get("query", "").split("&") if part)
            codec = audio_wire.elevenlabs_codec(query.get("output_format") or audio_wire.ELEVENLABS_DEFAULT_FORMAT)
            text, fmt, voice = body["text"], codec or "mp3", found.group(1)
        else:
            continue
        if len(data) == len(audio_wire.MAGIC.get(fmt, b"")) + audio_wire.AUDIO_BYTES_PER_CHAR * len(text) \
                and audio_wire.audio_bytes(text, fmt, voice) == data:
            return text
    return None


def text_wav(text: str, seconds: float = 1.0, rate: int = 8000) -> bytes:
    """An upload this rule transcribes back to `text`: an 8-bit mono WAV whose samples are the text's bytes
    (padded with spaces to `seconds`), so its duration is `seconds` by header arithmetic."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(rate)
        out.writeframes(text.encode().ljust(int(seconds * rate), b" "))
    return buffer.getvalue()


def spoken_bytes(data: bytes) -> bytes:
    reader = _wav(data)
    if reader is not None:
        return reader.readframes(reader.getnframes())
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        return data[10 + size:]
    return data


def transcript_of(data: bytes, recorded: list[dict] | None = None) -> str:
    text = spoken_by_tts(data, recorded or [])
    if text is not None:
        return " ".join(strip_markers(text).split())
    try:
        text = spoken_bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c.isspace() for c in text):
        cleaned = " ".join(strip_markers(text).split())
        if cleaned:
            return cleaned
    return f"Emulated transcript of {len(data)} bytes of audio ({hashlib.sha256(data).hexdigest()[:8]})."


def duration_of(data: bytes) -> float:
    reader = _wav(data)
    if reader is not None and reader.getframerate():
        return round(reader.getnframes() / reader.getframerate(), 3)
    return round(len(data) / ESTIMATE_BYTES_PER_SECOND, 3)


def marker_texts(data: bytes, *texts: str | None) -> list[str]:
    """The texts knobs are read from: the upload (when it carries a marker) and the text fields."""
    found = [text for text in texts if text]
    decoded = data.decode("latin-1")
    if MARKER in decoded:
        found.append(decoded[decoded.index(MARKER):decoded.rindex("]]") + 2])
    return found


def words_of(text: str, duration: float) -> list[dict]:
    tokens = text.split()
    count = len(tokens) or 1
    return [{"word": word, "start": round(i * duration / count, 3), "end": round((i + 1) * duration / count, 3)}
            for i, word in enumerate(tokens)]


def segments_of(words: list[dict], with_words: bool = False) -> list[dict]:
    segments, current = [], []
    for word in words:
        current.append(word)
        if _SENTENCE_END.search(word["word"]):
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    return [{"start": group[0]["start"], "end": group[-1]["end"], "text": " ".join(w["word"] for w in group),
             **({"words": group} if with_words else {})}
            for group in segments]


def output_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def audio_tokens(duration: float, per_second: int) -> int:
    return math.ceil(duration * per_second)


# ---- OpenAI / Groq ---------------------------------------------------------------------------------


def openai_usage(model: str, text: str, duration: float, prompt: str | None) -> dict:
    if model.startswith(JSON_ONLY_PREFIX):
        audio = audio_tokens(duration, 10)
        prompt_tokens = output_tokens(prompt or "")
        out = output_tokens(text)
        return {"type": "tokens", "input_tokens": audio + prompt_tokens,
                "input_token_details": {"text_tokens": prompt_tokens, "audio_tokens": audio},
                "output_tokens": out, "total_tokens": audio + prompt_tokens + out}
    return {"type": "duration", "seconds": math.ceil(duration)}


def openai_verbose(text: str, duration: float, language: str | None, with_words: bool) -> dict:
    words = words_of(text, duration)
    segments = [
        {"id": i, "seek": 0, "start": s["start"], "end": s["end"], "text": " " + s["text"], "tokens": [],
         "temperature": 0.0, "avg_logprob": -0.25, "compression_ratio": 1.2, "no_speech_prob": 0.01}
        for i, s in enumerate(segments_of(words))
    ]
    answer = {"task": "transcribe", "language": language or "english", "duration": duration, "text": text,
              "segments": segments}
    if with_words:
        answer["words"] = words
    return answer


def subtitles(text: str, duration: float, fmt: str) -> str:
    def stamp(seconds: float) -> str:
        millis = round(seconds * 1000)
        h, millis = divmod(millis, 3_600_000)
        m, millis = divmod(millis, 60_000)
        s, millis = divmod(millis, 1000)
        return f"{h:02d}:{m:02d}:{s:02d}{',' if fmt == 'srt' else '.'}{millis:03d}"

    cues = segments_of(words_of(text, duration))
    blocks = [(f"{i}\n" if fmt == "srt" else "") + f"{stamp(c['start'])} --> {stamp(c['end'])}\n{c['text']}\n"
              for i, c in enumerate(cues, start=1)]
    return ("WEBVTT\n\n" if fmt == "vtt" else "") + "\n".join(blocks)


def incompatible_format(fmt: str, model: str) -> dict:
    message = f"response_format '{fmt}' is not compatible with model '{model}'. Use 'json' or 'text' instead."
    return {"error": {"message": message, "type": "invalid_request_error", "param": "response_format",
                      "code": "unsupported_value"}}


# ---- ElevenLabs ------------------------------------------------------------------------------------


def elevenlabs_answer(text: str, duration: float, language: str | None) -> dict:
    items = []
    words = words_of(text, duration)
    for index, word in enumerate(words):
        if index:
            items.append({"text": " ", "start": word["start"], "end": word["start"], "type": "spacing",
                          "speaker_id": "speaker_0", "logprob": 0.0})
        items.append({"text": word["word"], "start": word["start"], "end": word["end"], "type": "word",
                      "speaker_id": "speaker_0", "logprob": -0.05})
    return {"language_code": language or "eng", "language_probability": 0.98, "text": text, "words": items,
            "transcription_id": hashlib.sha256(text.encode()).hexdigest()[:20]}


# ---- Gemini ----------------------------------------------------------------------------------------


def gemini_audio(body: dict) -> tuple[str, bytes, str] | None:
    """(instruction text, audio bytes, mime type) of a generateContent request carrying inline audio."""
    import base64

    texts, audio = [], None
    for content in body.get("contents") or ():
        for part in (content or {}).get("parts") or ():
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("text"), str):
                texts.append(part["text"])
            inline = part.get("inlineData")
            if isinstance(inline, dict) and str(inline.get("mimeType", "")).startswith("audio/") and audio is None:
                try:
                    audio = (base64.b64decode(inline.get("data") or "", validate=True), inline["mimeType"])
                except ValueError:
                    audio = (b"", inline["mimeType"])
    if audio is None:
        return None
    return " ".join(texts), audio[0], audio[1]


def gemini_answer(model: str, response_id: str, instruction: str, text: str, duration: float) -> dict:
    prompt = audio_tokens(duration, 32) + output_tokens(instruction)
    out = output_tokens(text)
    return {
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": out, "totalTokenCount": prompt + out,
                          "promptTokensDetails": [{"modality": "AUDIO", "tokenCount": audio_tokens(duration, 32)},
                                                  {"modality": "TEXT", "tokenCount": output_tokens(instruction)}]},
        "modelVersion": model,
        "responseId": response_id,
    }


# ---- Workers AI ------------------------------------------------------------------------------------


def workers_ai_audio(model: str, inputs: dict) -> bytes | str:
    """The audio bytes of a run request, or the Cloudflare bad-input message naming what is wrong."""
    import base64

    audio = inputs.get("audio")
    if model == "@cf/openai/whisper-large-v3-turbo":
        if not isinstance(audio, str) or not audio:
            return "Type mismatch of '/audio', 'string' not in 'array'" if isinstance(audio, list) else \
                "Error: required properties at '/' are 'audio'"
        try:
            return base64.b64decode(audio, validate=True)
        except ValueError:
            return "Invalid base64 in '/audio'"
    if not isinstance(audio, list) or not audio or not all(isinstance(b, int) and 0 <= b <= 255 for b in audio):
        return "Type mismatch of '/audio', 'array' not in 'string'" if isinstance(audio, str) else \
            "Error: required properties at '/' are 'audio'"
    return bytes(audio)


def workers_ai_result(model: str, text: str, duration: float, language: str | None) -> dict:
    words = words_of(text, duration)
    vtt = subtitles(text, duration, "vtt")
    if model == "@cf/openai/whisper-large-v3-turbo":
        segments = [{**s, "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.1, "no_speech_prob": 0.01}
                    for s in segments_of(words, with_words=True)]
        return {"transcription_info": {"language": language or "en", "language_probability": 0.98,
                                       "duration": duration, "duration_after_vad": duration},
                "text": text, "word_count": len(words), "segments": segments, "vtt": vtt}
    return {"text": text, "word_count": len(words), "words": words, "vtt": vtt}


def encode(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()
