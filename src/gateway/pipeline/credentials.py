"""Provider key resolution. This release has the env level (`<PROVIDER>_API_KEY`, base URL
`<PROVIDER>_BASE_URL`, or the names the manifest declares) and, for a provider reachable through the
Worker's `AI` binding, the binding itself (no key); the user → org → system-tier → system-all levels plug
in before them."""

from __future__ import annotations

import re
from typing import Any

from gateway.errors import UpstreamError, ErrorCategory
from gateway.ports.ai_binding import BINDING_BASE_URL
from gateway.providers.base import Endpoint, ProviderManifest
from gateway.settings import Settings, env_prefix

_PLACEHOLDER = re.compile(r"\{([A-Z0-9_]+)\}")


def _missing(provider_id: str, setting: str) -> UpstreamError:
    return UpstreamError(
        ErrorCategory.AUTH,
        f"no credential configured for provider '{provider_id}' (set {setting})",
        provider=provider_id,
        code="provider_key_missing",
    )


def resolve_endpoint(
    provider: dict[str, Any], manifest: ProviderManifest, settings: Settings, *, ai_binding: bool = False
) -> tuple[Endpoint, str]:
    """The endpoint for a provider and the level whose key serves it. `ai_binding`: the platform offers
    the `AI` binding (the Worker); a manifest that can use it is then served by it, key level 'binding'."""
    provider_id = provider["id"]
    if ai_binding and manifest.ai_binding:
        return Endpoint(base_url=BINDING_BASE_URL, api_key=None), "binding"
    names = manifest.env
    if names is not None:
        api_key = settings.env.get(names.api_key) or None
        override = settings.env.get(names.base_url) if names.base_url else None
        key_setting = names.api_key
    else:
        api_key = settings.provider_api_key(provider_id)
        override = settings.provider_base_url(provider_id)
        key_setting = f"{env_prefix(provider_id)}_API_KEY"
    base_url = override or provider.get("base_url") or manifest.default_base_url
    if base_url is None:
        raise UpstreamError(
            ErrorCategory.SERVER_ERROR,
            f"provider '{provider_id}' has no base URL configured",
            provider=provider_id,
        )
    if api_key is None and manifest.requires_api_key:
        raise _missing(provider_id, key_setting)
    if names is not None and names.base_path:
        base_url = base_url.rstrip("/") + _fill(names.base_path, settings, provider_id)
    return Endpoint(base_url=base_url, api_key=api_key), "env" if api_key else "none"


def _fill(path: str, settings: Settings, provider_id: str) -> str:
    def value(match: re.Match) -> str:
        found = settings.env.get(match.group(1))
        if not found:
            raise _missing(provider_id, match.group(1))
        return found

    return _PLACEHOLDER.sub(value, path)
