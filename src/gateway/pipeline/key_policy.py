"""A gateway key's allowed models and providers, enforced on every route once the target is known
(attempts.py for a named model, targeting.py for video jobs; the router's `permits` filter for auto and
fallbacks), so a refused request never reaches a provider.

Patterns in `allowed_models`: an exact model id ('openai/gpt-4o-mini') or a whole provider
('openai/*'). `allowed_providers` lists provider ids. A key with both must satisfy both."""

from __future__ import annotations

from gateway.errors import PermissionDeniedError
from gateway.pipeline.context import Caller, Target


def model_matches(pattern: str, model_id: str) -> bool:
    if pattern.endswith("/*"):
        return model_id.startswith(pattern[:-1])
    return pattern == model_id


def permits(caller: Caller | None, provider_id: str, model_id: str) -> bool:
    """May this key use the model? (The router's filter; `enforce_key_policy` answers the 403.)"""
    if caller is None:
        return True
    if caller.allowed_providers is not None and provider_id not in caller.allowed_providers:
        return False
    return caller.allowed_models is None or any(model_matches(p, model_id) for p in caller.allowed_models)


def enforce_key_policy(caller: Caller | None, target: Target) -> None:
    """403 naming `model` when the key may not use the target's provider or model."""
    if caller is None:
        return
    if caller.allowed_providers is not None and target.provider_id not in caller.allowed_providers:
        raise PermissionDeniedError(
            f"This gateway key may not use provider '{target.provider_id}' (model '{target.model_id}').",
            param="model", code="model_not_allowed",
        )
    if caller.allowed_models is not None and not any(
        model_matches(pattern, target.model_id) for pattern in caller.allowed_models
    ):
        raise PermissionDeniedError(
            f"This gateway key may not use model '{target.model_id}'.", param="model", code="model_not_allowed"
        )
