"""Text-to-speech wire formats (OpenAI `/v1/audio/speech`, ElevenLabs `/v1/text-to-speech/{voice_id}`):
deterministic audio bytes and ElevenLabs' error envelope, as pure functions (no I/O).

The audio rule, so tests can compute what a route answers:

- `audio_bytes(text, fmt, voice)` = `MAGIC[fmt]` + `AUDIO_BYTES_PER_CHAR × len(text)` bytes, the bytes
  being SHA-256 of `"{voice}|{fmt}|{text}"` repeated (and cut) to that length. `text` is the input as
  sent, markers included.
- OpenAI: `fmt` is `response_format` (default `mp3`). ElevenLabs: `fmt` is the codec of `output_format`
  (`mp3_44100_128` → `mp3`, default `mp3_44100_128`), `voice` the voice id of the path.
- Both routes send the bytes in `AUDIO_CHUNK_BYTES` pieces (one write unless a chunk interval is asked
  for, then one write per piece with the interval between them).
- Workers AI Deepgram Aura (`…/ai/run/@cf/deepgram/aura-*`, inputs `{text, speaker, encoding, container}`):
  `fmt` from `encoding` (`mp3` default, `opus`, `aac`, `flac`; `linear16` is `wav` in a `wav` container and
  `pcm` otherwise), `voice` the `speaker` (default `angus` for aura-1, `luna` for aura-2); the bytes are the
  body (`AURA_CONTENT_TYPES`), as the REST API answers.
- Workers AI MeloTTS (`…/ai/run/@cf/myshell-ai/melotts`, inputs `{prompt, lang}`): `audio_bytes(prompt,
  "mp3", lang or "en")`, base64 in `{"result": {"audio": …}, "success": true, …}`.
- Gemini TTS (`…:generateContent` with `responseModalities: ["AUDIO"]`): `audio_bytes(text, "pcm", voiceName)`
  (`text` = the text parts of the contents joined with a space, `voiceName` default `Kore`), base64 in
  `candidates[0].content.parts[0].inlineData` with mimeType `audio/L16;codec=pcm;rate=24000`.
- `spoken_audio(path, query, body)` gives (fmt, bytes) for any of these requests as recorded, so a test can
  tell what the emulator produced without knowing which provider it was.
"""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, unquote

AUDIO_BYTES_PER_CHAR = 64
AUDIO_CHUNK_BYTES = 1024

MAGIC = {
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x00",
    "opus": b"OggS\x00\x02",
    "aac": b"\xff\xf1\x50\x80",
    "flac": b"fLaC",
    "wav": b"RIFF\x00\x00\x00\x00WAVEfmt ",
    "pcm": b"",
    "ulaw": b"",
    "alaw": b"",
}
OPENAI_CONTENT_TYPES = {
    "mp3": "audio/mpeg", "opus": "audio/opus", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav",
    "pcm": "audio/pcm",
}
ELEVENLABS_CONTENT_TYPES = {
    "mp3": "audio/mpeg", "opus": "audio/opus", "wav": "audio/wav", "pcm": "audio/pcm", "ulaw": "audio/basic",
    "alaw": "audio/x-alaw-basic",
}
ELEVENLABS_DEFAULT_FORMAT = "mp3_44100_128"
ELEVENLABS_MODELS = frozenset({
    "eleven_multilingual_v2", "eleven_flash_v2_5", "eleven_turbo_v2_5", "eleven_v3", "eleven_flash_v2",
    "eleven_turbo_v2", "eleven_monolingual_v1", "eleven_multilingual_v1",
})


def audio_bytes(text: str, fmt: str, voice: str) -> bytes:
    seed = hashlib.sha256(f"{voice}|{fmt}|{text}".encode()).digest()
    length = AUDIO_BYTES_PER_CHAR * len(text)
    body = (seed * (length // len(seed) + 1))[:length]
    return MAGIC.get(fmt, b"") + body


def pieces(data: bytes) -> list[bytes]:
    return [data[i:i + AUDIO_CHUNK_BYTES] for i in range(0, len(data), AUDIO_CHUNK_BYTES)] or [b""]


def elevenlabs_codec(output_format: str) -> str | None:
    codec = output_format.partition("_")[0]
    return codec if codec in ELEVENLABS_CONTENT_TYPES else None


def encode(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def elevenlabs_error(status: str, message: str) -> dict:
    return {"detail": {"status": status, "message": message}}


def elevenlabs_validation_error(field: str, message: str) -> dict:
    """FastAPI-style 422 body, as ElevenLabs answers a malformed request."""
    return {"detail": [{"loc": ["body", field], "msg": message, "type": "value_error"}]}


def elevenlabs_fault(fault: str) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) of a fault answered with ElevenLabs' envelope; None for other faults."""
    if fault in ("429", "429-no-retry-after"):
        headers = {"retry-after": "2"} if fault == "429" else {}
        return 429, elevenlabs_error("too_many_concurrent_requests",
                                     "Too many concurrent requests for your subscription."), headers
    if fault == "401":
        return 401, elevenlabs_error("invalid_api_key", "Invalid API key"), {}
    if fault == "503":
        return 503, elevenlabs_error("system_busy", "The system is experiencing heavy traffic, please try again later."), {}
    if fault == "model-not-found":
        return 400, elevenlabs_error("model_not_found", "A model with this model_id does not exist."), {}
    return None


def elevenlabs_server_error() -> dict:
    return elevenlabs_error("internal_server_error", "An internal server error occurred.")


# ---- Workers AI and Gemini text-to-speech ---------------------------------------------------------

AURA_CONTENT_TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac",
                      "wav": "audio/wav", "pcm": "application/octet-stream"}
AURA_ENCODINGS = frozenset({"mp3", "opus", "aac", "flac", "linear16", "mulaw", "alaw"})
GEMINI_PCM_MIME = "audio/L16;codec=pcm;rate=24000"
GEMINI_DEFAULT_VOICE = "Kore"


def aura_format(body: dict) -> str:
    encoding = body.get("encoding") or "mp3"
    if encoding == "linear16":
        return "wav" if body.get("container") == "wav" else "pcm"
    return encoding


def aura_audio(body: dict, model: str) -> bytes:
    default = "luna" if "aura-2" in model else "angus"
    return audio_bytes(body["text"], aura_format(body), body.get("speaker") or default)


def melotts_audio(body: dict) -> bytes:
    return audio_bytes(body["prompt"], "mp3", body.get("lang") or "en")


def gemini_voice(body: dict) -> str:
    config = (body.get("generationConfig") or {}).get("speechConfig") or {}
    voice = ((config.get("voiceConfig") or {}).get("prebuiltVoiceConfig") or {}).get("voiceName")
    return voice if isinstance(voice, str) and voice else GEMINI_DEFAULT_VOICE


def gemini_text(body: dict) -> str:
    texts = []
    for content in body.get("contents") or ():
        for part in (content.get("parts") if isinstance(content, dict) else None) or ():
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                texts.append(part["text"])
    return " ".join(texts)


def wants_gemini_audio(body: dict) -> bool:
    modalities = (body.get("generationConfig") or {}).get("responseModalities") or ()
    return any(str(m).upper() == "AUDIO" for m in modalities)


def gemini_pcm(body: dict) -> bytes:
    return audio_bytes(gemini_text(body), "pcm", gemini_voice(body))


def gemini_speech(body: dict, model: str, response_id: str) -> dict:
    pcm = gemini_pcm(body)
    seconds = len(pcm) / 48000  # 24 kHz, 16-bit mono
    audio_tokens = max(1, round(seconds * 32))  # Gemini counts 32 audio tokens a second
    prompt_tokens = len(gemini_text(body).split())
    return {
        "candidates": [{"content": {"role": "model", "parts": [{"inlineData": {
            "mimeType": GEMINI_PCM_MIME, "data": base64.b64encode(pcm).decode()}}]},
            "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": prompt_tokens, "candidatesTokenCount": audio_tokens,
                          "totalTokenCount": prompt_tokens + audio_tokens,
                          "candidatesTokensDetails": [{"modality": "AUDIO", "tokenCount": audio_tokens}]},
        "modelVersion": model,
        "responseId": response_id,
    }


def spoken_audio(path: str, query: str, body: dict) -> tuple[str, bytes]:
    """What a speech route produced for a request as recorded: (fmt, audio bytes) before any envelope."""
    path = unquote(path)
    if path.endswith("/audio/speech"):
        fmt = body.get("response_format") or "mp3"
        return fmt, audio_bytes(body["input"], fmt, body["voice"])
    if "/text-to-speech/" in path:
        voice = path.split("/text-to-speech/", 1)[1].split("/", 1)[0]
        output_format = (parse_qs(query).get("output_format") or [ELEVENLABS_DEFAULT_FORMAT])[0]
        codec = elevenlabs_codec(output_format) or "mp3"
        return codec, audio_bytes(body["text"], codec, voice)
    if "/ai/run/" in path:
        model = path.split("/ai/run/", 1)[1]
        if model.endswith("/melotts"):
            return "mp3", melotts_audio(body)
        return aura_format(body), aura_audio(body, model)
    if path.endswith(":generateContent"):
        return "pcm", gemini_pcm(body)
    raise ValueError(f"not a speech route: {path}")
