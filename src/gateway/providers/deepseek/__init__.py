"""DeepSeek: the OpenAI format, with `reasoning_content` from deepseek-reasoner and cache-hit usage."""

from gateway.providers.base import ProviderManifest
from gateway.providers.deepseek.api import DEFAULT_BASE_URL
from gateway.providers.deepseek.chat import CHAT

MANIFEST = ProviderManifest(name="deepseek", display_name="DeepSeek", default_base_url=DEFAULT_BASE_URL, chat=CHAT)
