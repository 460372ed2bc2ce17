"""Groq: the OpenAI format under /openai/v1, a few parameters refused, usage also in `x_groq`."""

from gateway.providers.base import ProviderManifest
from gateway.providers.groq.api import DEFAULT_BASE_URL
from gateway.providers.groq.chat import CHAT
from gateway.providers.groq.transcription import TRANSCRIPTION

MANIFEST = ProviderManifest(
    name="groq", display_name="Groq", default_base_url=DEFAULT_BASE_URL, chat=CHAT, transcription=TRANSCRIPTION
)
