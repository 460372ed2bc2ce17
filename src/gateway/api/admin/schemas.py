"""The admin API's request and answer bodies (they document the API in the OpenAPI schema too).
Requests forbid unknown fields: a misspelt limit must fail loudly, not be ignored."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError

from gateway.pipeline.strategies import STRATEGIES

Role = Literal["owner", "admin", "member"]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- errors and lists ----------------------------------------------------------------------------

class ErrorBody(BaseModel):
    message: str
    type: str
    param: str | None = Field(description="the request field (or path / query parameter) at fault")
    code: str | None


class ErrorEnvelope(BaseModel):
    error: ErrorBody


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI descriptions of the error answers a route gives (all in the OpenAI envelope)."""
    meaning = {
        400: "invalid field (`param` names it)",
        401: "no, an unknown, a revoked or an expired key",
        403: "the principal's role does not allow this (`param` names the field when one is at fault)",
        404: "no such object, or another tenant's (ids cannot be probed)",
        409: "conflicts with an existing object",
    }
    return {status: {"model": ErrorEnvelope, "description": meaning[status]} for status in statuses}


# --- keys ----------------------------------------------------------------------------------------

def _check_model_patterns(value: list[str] | None) -> list[str] | None:
    for pattern in value or ():
        star = pattern.find("*")
        if not pattern or (star != -1 and (star != len(pattern) - 1 or not pattern.endswith("/*") or pattern == "/*")):
            raise PydanticCustomError(
                "model_pattern", "each entry is a model id ('openai/gpt-4o-mini') or a provider pattern ('openai/*')"
            )
    return value


def _check_strategy(value: str | None) -> str | None:
    """What `model: "auto"` uses for this key or org: one of the routing strategies (null: the next level's)."""
    if value is not None and value not in STRATEGIES:
        raise PydanticCustomError("strategy", "must be one of {names} (or null)", {"names": " | ".join(STRATEGIES)})
    return value


class _StrategyField(BaseModel):
    default_strategy: str | None = Field(default=None, description=" | ".join(STRATEGIES) + " for `model: \"auto\"`; "
                                         "null: the next level's (key, then org, then 'balanced')")

    @field_validator("default_strategy")
    @classmethod
    def _strategy(cls, value: str | None) -> str | None:
        return _check_strategy(value)


def _check_names(value: list[str] | None) -> list[str] | None:
    if value is not None and not all(name.strip() for name in value):
        raise PydanticCustomError("empty_name", "an empty name in the list")
    return value


class _KeyLimits(_Request, _StrategyField):
    name: str | None = Field(default=None, max_length=200)
    expires_at: str | None = Field(default=None, description="ISO 8601 time, UTC if no offset is given")
    requests_per_day: int | None = Field(default=None, ge=0, description="the key's own daily request limit")
    daily_budget_usd: float | None = Field(default=None, ge=0)
    monthly_budget_usd: float | None = Field(default=None, ge=0)
    allowed_models: list[str] | None = Field(
        default=None, description="exact model ids or 'provider/*' patterns; null = every model")
    allowed_providers: list[str] | None = Field(default=None, description="provider ids; null = every provider")
    metadata: dict[str, Any] | None = None

    @field_validator("allowed_models")
    @classmethod
    def _model_patterns(cls, value: list[str] | None) -> list[str] | None:
        return _check_model_patterns(value)

    @field_validator("allowed_providers")
    @classmethod
    def _provider_names(cls, value: list[str] | None) -> list[str] | None:
        return _check_names(value)


class CreateKeyRequest(_KeyLimits):
    user_id: str | None = Field(default=None, description="default: the calling user (the system may omit it)")
    org_id: str | None = Field(default=None, description="scope the key to an org; its user must be a member")
    tier_id: str | None = Field(default=None, description="system admins only: override the owner's tier")


class UpdateKeyRequest(_KeyLimits):
    tier_id: str | None = Field(default=None, description="system admins only")


class KeyOut(BaseModel):
    id: str
    prefix: str = Field(description="the key's first characters, to recognise it; never the key")
    name: str | None
    user_id: str | None
    org_id: str | None
    tier_id: str | None
    status: Literal["active", "revoked"]
    expires_at: str | None
    revoked_at: str | None
    last_used_at: str | None = Field(description="exact to KEY_CACHE_SECONDS (written off the request path)")
    requests_per_day: int | None
    daily_budget_usd: float | None
    monthly_budget_usd: float | None
    allowed_models: list[str] | None
    allowed_providers: list[str] | None
    default_strategy: str | None
    metadata: dict[str, Any] | None
    created_at: str


class CreatedKeyOut(KeyOut):
    key: str = Field(description="the secret key: shown in this answer only, stored as a hash")


class KeyList(BaseModel):
    object: Literal["list"]
    data: list[KeyOut]


# --- organizations, users, memberships, tiers ----------------------------------------------------

class _Budgets(_Request):
    daily_budget_usd: float | None = Field(default=None, ge=0)
    monthly_budget_usd: float | None = Field(default=None, ge=0)


class CreateOrgRequest(_Budgets, _StrategyField):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    tier_id: str | None = Field(default=None, description="default 'free'")


class UpdateOrgRequest(_Budgets, _StrategyField):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    tier_id: str | None = Field(default=None, description="system admins only")


class OrgOut(BaseModel):
    id: str
    name: str
    slug: str
    tier_id: str
    daily_budget_usd: float | None
    monthly_budget_usd: float | None
    default_strategy: str | None
    created_at: str
    updated_at: str


class OrgList(BaseModel):
    object: Literal["list"]
    data: list[OrgOut]


class CreateUserRequest(_Budgets):
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(default=None, max_length=200)
    tier_id: str | None = Field(default=None, description="default 'free'")
    is_system_admin: bool = False


class UpdateUserRequest(_Budgets):
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    name: str | None = Field(default=None, max_length=200)
    tier_id: str | None = None
    is_system_admin: bool | None = None


class UserOut(BaseModel):
    id: str
    email: str | None
    name: str | None
    tier_id: str
    is_system_admin: bool
    daily_budget_usd: float | None
    monthly_budget_usd: float | None
    created_at: str
    updated_at: str


class UserList(BaseModel):
    object: Literal["list"]
    data: list[UserOut]


class MembershipRequest(_Request):
    role: Role


class MemberOut(BaseModel):
    org_id: str
    user_id: str
    role: Role
    created_at: str
    email: str | None = None
    name: str | None = None


class MemberList(BaseModel):
    object: Literal["list"]
    data: list[MemberOut]


class MeOut(BaseModel):
    system: bool = Field(description="a system admin (the GATEWAY_ADMIN_KEY secret or is_system_admin)")
    user: UserOut | None
    key_id: str | None
    memberships: dict[str, Role] = Field(description="org id -> role")


class UpdateTierRequest(_Request):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    daily_request_limit: int | None = Field(default=None, ge=0, description="null = unlimited")
    monthly_budget_usd: float | None = Field(default=None, ge=0)
    pay_as_you_go: bool | None = None


class TierOut(BaseModel):
    id: str
    name: str
    daily_request_limit: int | None
    monthly_budget_usd: float | None
    pay_as_you_go: bool
    created_at: str
    updated_at: str


class TierList(BaseModel):
    object: Literal["list"]
    data: list[TierOut]


class UsageList(BaseModel):
    object: Literal["list"]
    data: list[dict[str, Any]] = Field(description="usage_log rows, newest first (docs/schema.md)")
