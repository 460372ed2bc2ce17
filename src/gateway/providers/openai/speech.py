"""OpenAI text-to-speech (`POST /v1/audio/speech`: tts-1, tts-1-hd, gpt-4o-mini-tts): the reference format."""

from gateway.providers.openai_format.speech import OpenAIFormatSpeech

SPEECH = OpenAIFormatSpeech()
