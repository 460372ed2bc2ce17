"""OpenAI speech-to-text: whisper-1 (verbose_json upstream), gpt-4o-transcribe and gpt-4o-mini-transcribe
(json/text only; token usage)."""

from gateway.providers.openai_format.transcription import OpenAIFormatTranscription

TRANSCRIPTION = OpenAIFormatTranscription(provider="openai")
