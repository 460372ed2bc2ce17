"""Custom OpenAI-compatible servers (Ollama, vLLM, LM Studio, any OpenAI-style URL).

The provider row gives the name and base URL; a key is optional (`<NAME>_API_KEY`).
"""

from gateway.providers.base import ProviderManifest
from gateway.providers.openai_compatible.chat import CHAT
from gateway.providers.openai_compatible.embeddings import EMBEDDINGS

MANIFEST = ProviderManifest(
    name="openai_compatible",
    display_name="OpenAI-compatible server",
    default_base_url=None,
    chat=CHAT,
    embeddings=EMBEDDINGS,
    requires_api_key=False,
)
