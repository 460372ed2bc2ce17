"""Custom OpenAI-compatible servers (Ollama, vLLM, LM Studio, any OpenAI-style URL).

The provider row gives the name and base URL; a key is optional (`<NAME>_API_KEY`).
"""

from gateway.providers.base import ProviderManifest
from gateway.providers.openai_compatible.chat import CHAT

MANIFEST = ProviderManifest(
    name="openai_compatible",
    display_name="OpenAI-compatible server",
    default_base_url=None,
    chat=CHAT,
    requires_api_key=False,
)
