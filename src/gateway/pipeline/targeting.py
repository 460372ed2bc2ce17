"""What every endpoint shares before its upstream call: resolve the requested model to a target, check the
model is of the endpoint's kind and allowed by the caller's key, and find the provider's adapter for it (the
key is resolved by EndpointPipeline._route_to)."""

from __future__ import annotations

from typing import Any

from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline.catalog import CatalogCache, require_modality
from gateway.pipeline.context import RequestContext, Target
from gateway.pipeline.key_policy import enforce_key_policy
from gateway.providers import registry
from gateway.providers.base import ProviderManifest


async def resolve_target(catalog_cache: CatalogCache, ctx: RequestContext, *, modality: str, label: str) -> Target:
    """ctx.requested_model as the catalog resolves it (sets ctx.target), checked to be of the endpoint's
    `modality` (the catalog's word; `label` is the one errors use) and allowed by the caller's key."""
    catalog = await catalog_cache.get()
    ctx.target = target = catalog.resolve(ctx.requested_model)
    require_modality(target, modality, label)
    enforce_key_policy(ctx.caller, target)  # the key's allowed models/providers: before a key is even resolved
    return target


def adapter_for(target: Target, capability: str, label: str) -> tuple[ProviderManifest, Any]:
    """(the target's provider manifest, its adapter for `capability`); 400 naming `model` when the
    provider does not offer it."""
    manifest = registry.get(target.adapter)
    adapter = getattr(manifest, capability, None) if manifest is not None else None
    if adapter is None:
        raise UpstreamError(
            ErrorCategory.INVALID_REQUEST, f"provider '{target.provider_id}' does not offer {label}", param="model"
        )
    return manifest, adapter
