"""Anthropic: the Messages API behind the OpenAI-format front door."""

from gateway.providers.anthropic.api import DEFAULT_BASE_URL
from gateway.providers.anthropic.chat import CHAT
from gateway.providers.base import ProviderManifest

MANIFEST = ProviderManifest(
    name="anthropic",
    display_name="Anthropic",
    default_base_url=DEFAULT_BASE_URL,
    chat=CHAT,
)
