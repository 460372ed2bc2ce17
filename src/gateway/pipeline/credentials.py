"""Provider key resolution. This release has the env level only (`<PROVIDER>_API_KEY`, base URL
`<PROVIDER>_BASE_URL`); the user → org → system-tier → system-all levels plug in before it."""

from __future__ import annotations

from typing import Any

from gateway.errors import UpstreamError, ErrorCategory
from gateway.providers.base import Endpoint, ProviderManifest
from gateway.settings import Settings, env_prefix


def resolve_endpoint(provider: dict[str, Any], manifest: ProviderManifest, settings: Settings) -> tuple[Endpoint, str]:
    """The endpoint for a provider and the level whose key serves it."""
    provider_id = provider["id"]
    base_url = settings.provider_base_url(provider_id) or provider.get("base_url") or manifest.default_base_url
    api_key = settings.provider_api_key(provider_id)
    if base_url is None:
        raise UpstreamError(
            ErrorCategory.SERVER_ERROR,
            f"provider '{provider_id}' has no base URL configured",
            provider=provider_id,
        )
    if api_key is None and manifest.requires_api_key:
        raise UpstreamError(
            ErrorCategory.AUTH,
            f"no credential configured for provider '{provider_id}' (set {env_prefix(provider_id)}_API_KEY)",
            provider=provider_id,
            code="provider_key_missing",
        )
    return Endpoint(base_url=base_url, api_key=api_key), "env" if api_key else "none"
