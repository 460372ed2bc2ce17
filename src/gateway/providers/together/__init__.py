"""Together AI: the OpenAI format; streams carry usage on their last chunk."""

from gateway.providers.base import ProviderManifest
from gateway.providers.together.api import DEFAULT_BASE_URL
from gateway.providers.together.chat import CHAT
from gateway.providers.together.embeddings import EMBEDDINGS
from gateway.providers.together.images import IMAGES
from gateway.providers.together.video import VIDEO

MANIFEST = ProviderManifest(
    name="together", display_name="Together AI", default_base_url=DEFAULT_BASE_URL, chat=CHAT, embeddings=EMBEDDINGS,
    images=IMAGES, video=VIDEO,
)
