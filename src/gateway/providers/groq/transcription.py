"""Groq speech-to-text: whisper-large-v3 and whisper-large-v3-turbo at its OpenAI-compatible
`/openai/v1/audio/transcriptions` (verbose_json upstream: Groq's json answer has no duration)."""

from gateway.providers.openai_format.transcription import OpenAIFormatTranscription

TRANSCRIPTION = OpenAIFormatTranscription(provider="groq", json_only_prefixes=())
