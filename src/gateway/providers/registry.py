"""The provider registry: every adapter is listed here once; the core looks adapters up by name."""

from __future__ import annotations

from gateway.providers import (
    anthropic, deepseek, elevenlabs, gemini, groq, openai, openai_compatible, perplexity, together, workers_ai, xai,
)
from gateway.providers.base import ProviderManifest

_MANIFESTS: dict[str, ProviderManifest] = {
    manifest.name: manifest for manifest in (
        openai.MANIFEST, openai_compatible.MANIFEST, anthropic.MANIFEST,
        deepseek.MANIFEST, groq.MANIFEST, xai.MANIFEST, perplexity.MANIFEST, together.MANIFEST,
        gemini.MANIFEST, workers_ai.MANIFEST, elevenlabs.MANIFEST,
    )
}


def get(adapter_name: str) -> ProviderManifest | None:
    return _MANIFESTS.get(adapter_name)


def all_manifests() -> list[ProviderManifest]:
    return list(_MANIFESTS.values())
