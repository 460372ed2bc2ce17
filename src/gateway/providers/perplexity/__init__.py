"""Perplexity (Sonar): the OpenAI format without a /v1; answers carry `citations` and `search_results`."""

from gateway.providers.base import ProviderManifest
from gateway.providers.perplexity.api import DEFAULT_BASE_URL
from gateway.providers.perplexity.chat import CHAT

MANIFEST = ProviderManifest(
    name="perplexity", display_name="Perplexity", default_base_url=DEFAULT_BASE_URL, chat=CHAT
)
