"""What the provider registry says each provider can do, read the same way by the conformance suite and
the providers-doc test: a capability is a `ProviderManifest` field holding an adapter (`chat`,
`embeddings`, `speech`, …), so a capability added to the manifest is picked up here without edits."""

from __future__ import annotations

import dataclasses

from gateway.providers import registry
from gateway.providers.base import ProviderManifest


def capability_names() -> list[str]:
    """The manifest fields that hold an adapter, in declaration order."""
    return [f.name for f in dataclasses.fields(ProviderManifest) if "Adapter" in str(f.type)]


def capabilities(manifest: ProviderManifest) -> list[str]:
    return [name for name in capability_names() if getattr(manifest, name) is not None]


def provider_capability_pairs() -> list[tuple[str, str]]:
    """(registry name, capability) for every capability of every registered provider."""
    return [(m.name, cap) for m in registry.all_manifests() for cap in capabilities(m)]
