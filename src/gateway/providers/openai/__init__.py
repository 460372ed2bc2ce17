"""OpenAI: the reference wire format."""

from gateway.providers.base import ProviderManifest
from gateway.providers.openai.api import DEFAULT_BASE_URL
from gateway.providers.openai.chat import CHAT
from gateway.providers.openai.embeddings import EMBEDDINGS
from gateway.providers.openai.images import IMAGES
from gateway.providers.openai.speech import SPEECH
from gateway.providers.openai.video import VIDEO
from gateway.providers.openai.transcription import TRANSCRIPTION

MANIFEST = ProviderManifest(
    name="openai",
    display_name="OpenAI",
    default_base_url=DEFAULT_BASE_URL,
    chat=CHAT,
    embeddings=EMBEDDINGS,
    speech=SPEECH,
    images=IMAGES,
    video=VIDEO,
    transcription=TRANSCRIPTION,
)
