"""ElevenLabs: text-to-speech (`/v1/text-to-speech/{voice_id}/stream`), speech-to-text (`/v1/speech-to-text`)."""

from gateway.providers.base import ProviderManifest
from gateway.providers.elevenlabs.api import DEFAULT_BASE_URL
from gateway.providers.elevenlabs.speech import SPEECH
from gateway.providers.elevenlabs.transcription import TRANSCRIPTION

MANIFEST = ProviderManifest(
    name="elevenlabs",
    display_name="ElevenLabs",
    default_base_url=DEFAULT_BASE_URL,
    speech=SPEECH,
    transcription=TRANSCRIPTION,
)
