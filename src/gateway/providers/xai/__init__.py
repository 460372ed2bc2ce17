"""xAI (Grok): the OpenAI format; reasoning models answer `reasoning_content` and take `reasoning_effort`."""

from gateway.providers.base import ProviderManifest
from gateway.providers.xai.api import DEFAULT_BASE_URL
from gateway.providers.xai.chat import CHAT
from gateway.providers.xai.images import IMAGES
from gateway.providers.xai.video import VIDEO

MANIFEST = ProviderManifest(name="xai", display_name="xAI", default_base_url=DEFAULT_BASE_URL, chat=CHAT, images=IMAGES,
                            video=VIDEO)
