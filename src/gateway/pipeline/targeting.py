"""The stage every endpoint shares before its upstream call: resolve the requested model to a target,
check the model is of the endpoint's kind, find the provider's adapter for it, and resolve the key."""

from __future__ import annotations

from typing import Any

from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline.catalog import CatalogCache, require_modality
from gateway.pipeline.context import RequestContext
from gateway.pipeline.credentials import resolve_endpoint
from gateway.providers import registry
from gateway.providers.base import Endpoint
from gateway.settings import Settings


async def target_adapter(
    catalog_cache: CatalogCache,
    settings: Settings,
    ctx: RequestContext,
    *,
    modality: str,
    capability: str,
    label: str,
    ai_binding: bool = False,
) -> tuple[Any, Endpoint]:
    """(the provider's adapter for `capability`, its endpoint); sets ctx.target and ctx.key_level.
    `modality` is the catalog's word for the endpoint's models, `label` the one errors use."""
    catalog = await catalog_cache.get()
    ctx.target = target = catalog.resolve(ctx.requested_model)
    require_modality(target, modality, label)
    manifest = registry.get(target.adapter)
    adapter = getattr(manifest, capability, None) if manifest is not None else None
    if adapter is None:
        raise UpstreamError(
            ErrorCategory.INVALID_REQUEST, f"provider '{target.provider_id}' does not offer {label}", param="model"
        )
    endpoint, ctx.key_level = resolve_endpoint(
        catalog.providers[target.provider_id], manifest, settings, ai_binding=ai_binding
    )
    return adapter, endpoint
