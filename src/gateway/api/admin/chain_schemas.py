"""Request bodies of the fallback chains' admin routes (docs/fallbacks.md). Unknown fields are refused;
a chain's entries (catalog model ids, "auto", "auto/<strategy>") are checked by the route, which names the
entry at fault (`chain[2]`)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from gateway.api.admin.schemas import _Request
from gateway.pipeline.fallback_rules import CATEGORIES, NEVER_FALLS_BACK

MAX_CHAIN_LENGTH = 20  # keeps a row small; at most max_attempts (≤ 10) of its models are tried per request


def _check_error_type(value: str | None) -> str | None:
    if value == NEVER_FALLS_BACK:
        raise PydanticCustomError("never_falls_back", "invalid_request never falls back (it is the caller's own error)")
    if value is not None and value not in CATEGORIES:
        names = " | ".join(c for c in CATEGORIES if c != NEVER_FALLS_BACK)
        raise PydanticCustomError("error_type", "must be one of {names}", {"names": names})
    return value


def _check_pattern(value: str | None) -> str | None:
    if value is not None and (not value or any(c.isspace() for c in value)):
        raise PydanticCustomError("model_pattern", "a model id or an fnmatch pattern ('*', 'openai/*'), no spaces")
    return value


class _Editable(_Request):
    error_type: str | None = Field(default=None, description="the error category the chain answers")
    model_pattern: str | None = Field(default=None, max_length=200,
                                      description="fnmatch pattern of the requested models: '*', 'openai/*', an id")
    chain: list[str] | None = Field(default=None, max_length=MAX_CHAIN_LENGTH,
                                    description='model ids, "auto" or "auto/<strategy>", tried in order')
    allow_workers_ai: bool | None = Field(default=None, description="free Workers AI as the last resort")
    max_attempts: int | None = Field(default=None, ge=1, le=10, description="models tried from this chain")

    @field_validator("error_type")
    @classmethod
    def _error_type(cls, value: str | None) -> str | None:
        return _check_error_type(value)

    @field_validator("model_pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        return _check_pattern(value)


class CreateChainRequest(_Editable):
    org_id: str | None = Field(default=None, description="the org the chain is for; null: global (system only)")
    error_type: str = Field(description="the error category the chain answers")  # type: ignore[assignment]
    model_pattern: str = Field(default="*", max_length=200,  # type: ignore[assignment]
                               description="fnmatch pattern of the requested models: '*', 'openai/*', an id")
    chain: list[str] = Field(max_length=MAX_CHAIN_LENGTH,  # type: ignore[assignment]
                             description='model ids, "auto" or "auto/<strategy>", tried in order')
    allow_workers_ai: bool = Field(default=True, description="free Workers AI as the last resort")  # type: ignore[assignment]
    max_attempts: int = Field(default=3, ge=1, le=10, description="models tried from this chain")  # type: ignore[assignment]


class UpdateChainRequest(_Editable):
    """Any field but org_id (a chain does not move between scopes: delete it and create another)."""
