"""The stage every endpoint shares before its upstream call: resolve the requested model to a target,
check the model is of the endpoint's kind, find the provider's adapter for it, and resolve the key."""

from __future__ import annotations

from typing import Any

from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline.catalog import CatalogCache, require_modality
from gateway.pipeline.context import RequestContext, Target
from gateway.pipeline.credentials import CredentialResolver, KeyChoice, KeyPin
from gateway.pipeline.key_policy import enforce_key_policy
from gateway.providers import registry
from gateway.providers.base import ProviderManifest


async def target_adapter(
    catalog_cache: CatalogCache,
    credentials: CredentialResolver,
    ctx: RequestContext,
    *,
    modality: str,
    capability: str,
    label: str,
    ai_binding: bool = False,
    pin: KeyPin | None = None,
) -> tuple[Any, KeyChoice]:
    """(the provider's adapter for `capability`, the key that serves it: user → org → tier → system → env →
    binding, pipeline/credentials.py); sets ctx.target and ctx.key_level.
    `modality` is the catalog's word for the endpoint's models, `label` the one errors use."""
    catalog = await catalog_cache.get()
    ctx.target = target = catalog.resolve(ctx.requested_model)
    require_modality(target, modality, label)
    enforce_key_policy(ctx.caller, target)  # the key's allowed models/providers: before a key is even resolved
    manifest, adapter = adapter_for(target, capability, label)
    choice = await credentials.choose(
        ctx.caller, catalog.providers[target.provider_id], manifest, ai_binding=ai_binding, pin=pin
    )
    ctx.key_level = choice.level
    return adapter, choice


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
