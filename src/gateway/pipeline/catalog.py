"""The catalog in the isolate: providers and models loaded from D1, refreshed every minute,
and the resolution of a requested model id to a target."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidRequestError, NotFoundError
from gateway.pipeline.context import Target
from gateway.ports import Clock, Database
from gateway.providers import registry
from gateway.storage import catalog as catalog_sql


@dataclass(frozen=True)
class Catalog:
    providers: dict[str, dict[str, Any]]          # provider id -> provider row
    models: dict[str, dict[str, Any]]             # 'provider/model' -> model row
    by_upstream_name: dict[str, list[str]]        # 'gpt-4o-mini' -> ['openai/gpt-4o-mini', ...]

    @classmethod
    def build(cls, providers: list[dict[str, Any]], models: list[dict[str, Any]]) -> "Catalog":
        usable = {p["id"]: p for p in providers if registry.get(p["adapter"]) is not None}
        model_map = {m["id"]: m for m in models if m["provider_id"] in usable}
        by_name: dict[str, list[str]] = {}
        for model_id, model in model_map.items():
            by_name.setdefault(model["upstream_name"], []).append(model_id)
        return cls(usable, model_map, by_name)

    def resolve(self, requested: str) -> Target:
        """'provider/model' goes to that provider (listed or not); a bare name must be unambiguous."""
        if requested in self.models:
            return self.target_of(self.models[requested])
        provider_id, sep, upstream_model = requested.partition("/")
        if sep and provider_id in self.providers and upstream_model:
            provider = self.providers[provider_id]
            listed = self.models.get(requested)
            return Target(provider_id, provider["adapter"], upstream_model, requested, listed)
        candidates = self.by_upstream_name.get(requested, [])
        if len(candidates) == 1:
            return self.target_of(self.models[candidates[0]])
        if len(candidates) > 1:
            raise InvalidRequestError(
                f"Model '{requested}' is offered by several providers; name one of: {', '.join(sorted(candidates))}.",
                param="model",
                code="ambiguous_model",
            )
        raise NotFoundError(
            f"The model '{requested}' does not exist. Use 'provider/model' (see GET /v1/models).",
            param="model",
            code="model_not_found",
        )

    def target_of(self, model: dict[str, Any]) -> Target:
        provider = self.providers[model["provider_id"]]
        return Target(model["provider_id"], provider["adapter"], model["upstream_name"], model["id"], model)


_ARTICLED = {"chat": "a chat", "embedding": "an embedding", "image": "an image", "tts": "a text-to-speech",
            "stt": "a speech-to-text"}


def require_modality(target: Target, modality: str, purpose: str) -> None:
    """A listed model must be of the modality the endpoint serves (a chat model cannot embed, an
    embedding model cannot chat): 400 naming `model`. Models the catalog does not list pass through."""
    entry = target.catalog_entry
    listed = entry.get("modality") if entry else None
    if listed is None or listed == modality:
        return
    raise InvalidRequestError(
        f"The model '{target.model_id}' is {_ARTICLED.get(listed, 'a ' + str(listed))} model; it cannot be used "
        f"for {purpose} (this endpoint needs {_ARTICLED.get(modality, 'a ' + modality)} model).",
        param="model",
        code="model_not_supported",
    )


# Content parts that carry an image, as OpenAI's chat format names them.
_IMAGE_PARTS = frozenset({"image_url", "input_image"})


def require_vision(target: Target, messages: Any) -> None:
    """An image part sent to a model the catalog lists as text-only (`supports_vision = 0`) is a 400 naming
    the part, before any upstream call. Only list contents are scanned; unlisted models pass through."""
    entry = target.catalog_entry
    if not entry or entry.get("supports_vision", 1) or not isinstance(messages, list):
        return
    for index, message in enumerate(messages):
        content = message.get("content") if isinstance(message, dict) else None
        if not isinstance(content, list):
            continue
        for position, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") in _IMAGE_PARTS:
                param = f"messages[{index}].content[{position}]"
                raise InvalidRequestError(
                    f"{param} is an image, and the model '{target.model_id}' does not accept images (the catalog "
                    f"lists it without vision): remove the image part or use a vision model.",
                    param=param,
                    code="model_not_supported",
                )


class CatalogCache:
    def __init__(self, database: Database, clock: Clock, ttl_seconds: float) -> None:
        self._db = database
        self._clock = clock
        self._ttl = ttl_seconds
        self._catalog: Catalog | None = None
        self._loaded_at = 0.0

    async def get(self) -> Catalog:
        now = self._clock.monotonic()
        if self._catalog is None or now - self._loaded_at >= self._ttl:
            providers = await catalog_sql.enabled_providers(self._db)
            models = await catalog_sql.enabled_models(self._db)
            self._catalog = Catalog.build(providers, models)
            self._loaded_at = now
        return self._catalog

    def invalidate(self) -> None:
        self._catalog = None
