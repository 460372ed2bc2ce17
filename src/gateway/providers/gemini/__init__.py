"""Google Gemini (Gemini API `generateContent` / `streamGenerateContent`) behind the OpenAI format."""

from gateway.providers.base import ProviderManifest
from gateway.providers.gemini.api import DEFAULT_BASE_URL
from gateway.providers.gemini.chat import CHAT
from gateway.providers.gemini.embeddings import EMBEDDINGS
from gateway.providers.gemini.images import IMAGES
from gateway.providers.gemini.video import VIDEO
from gateway.providers.gemini.transcription import TRANSCRIPTION
from gateway.providers.gemini.speech import SPEECH

MANIFEST = ProviderManifest(
    name="gemini",
    display_name="Google Gemini",
    default_base_url=DEFAULT_BASE_URL,
    chat=CHAT,
    embeddings=EMBEDDINGS,
    images=IMAGES,
    video=VIDEO,
    transcription=TRANSCRIPTION,
    speech=SPEECH,
)
