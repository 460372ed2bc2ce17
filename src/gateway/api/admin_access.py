"""Who is calling the admin API, and what they may touch.

- The system: the GATEWAY_ADMIN_KEY secret (compared in constant time), or a gateway key whose user has
  `users.is_system_admin = 1`. Sees and manages everything.
- An org admin: a gateway key whose user is `owner` or `admin` of an org. Manages that org only (its
  members' keys, its credentials, its usage and limits).
- A user: any gateway key that belongs to a user. Their own keys, credentials and usage only.
A gateway key without a user (an app key made by the system) is no admin principal: 403.
A key scoped to an org acts in that org only (its user's role there; no other org, no system powers).

Anything another tenant owns answers 404, as if it did not exist, so ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from fastapi import Request

from gateway.core import Gateway
from gateway.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from gateway.pipeline.auth import extract_key
from gateway.storage import tenants

ORG_ADMIN_ROLES = frozenset({"owner", "admin"})


@dataclass(frozen=True)
class Principal:
    system: bool
    user_id: str | None = None
    key_id: str | None = None
    org_roles: Mapping[str, str] = field(default_factory=dict)  # org id -> owner | admin | member

    def can_admin_org(self, org_id: str | None) -> bool:
        return self.system or (org_id is not None and self.org_roles.get(org_id) in ORG_ADMIN_ROLES)

    def is_member(self, org_id: str | None) -> bool:
        return self.system or (org_id is not None and org_id in self.org_roles)

    def is_user(self, user_id: str | None) -> bool:
        return self.system or (user_id is not None and user_id == self.user_id)

    @property
    def admin_org_ids(self) -> tuple[str, ...]:
        return tuple(org for org, role in self.org_roles.items() if role in ORG_ADMIN_ROLES)

    @property
    def member_org_ids(self) -> tuple[str, ...]:
        return tuple(self.org_roles)

    def can_see_key(self, key: Mapping[str, object]) -> bool:
        """Their own keys, and the keys scoped to an org they administer."""
        return self.is_user(key.get("user_id")) or self.can_admin_org(key.get("org_id"))  # type: ignore[arg-type]

    def can_limit_key(self, key: Mapping[str, object]) -> bool:
        """Who may change a key's limits: an org key's org admins (its user may not lift what they set),
        a personal key's user."""
        org_id = key.get("org_id")
        if org_id is not None:
            return self.can_admin_org(org_id)  # type: ignore[arg-type]
        return self.is_user(key.get("user_id"))  # type: ignore[arg-type]


SYSTEM = Principal(system=True)


async def admin_principal(request: Request) -> Principal:
    """The FastAPI dependency of every admin route."""
    gateway: Gateway = request.app.state.gateway
    if gateway.is_admin(request.headers):
        return SYSTEM
    raw_key = extract_key(request.headers)
    if raw_key is None:
        raise AuthenticationError(
            "The admin API needs the admin key or a gateway key that belongs to a user.", code="missing_api_key"
        )
    caller = await gateway.authenticator.authenticate(raw_key)
    if caller.user_id is None:
        raise PermissionDeniedError("This gateway key belongs to no user, so it cannot use the admin API.",
                                    code="not_an_admin_principal")
    facts = await tenants.principal_facts(gateway.ports.database, caller.user_id)
    if facts is None:
        raise PermissionDeniedError("This gateway key's user no longer exists.", code="not_an_admin_principal")
    is_system_admin, roles = facts
    if caller.org_id is not None:
        # A key scoped to an org acts in that org only: its user's role there, no other org, no system powers
        # (a leaked org key cannot reach beyond its org).
        scoped = {caller.org_id: roles[caller.org_id]} if caller.org_id in roles else {}
        return Principal(system=False, user_id=caller.user_id, key_id=caller.key_id, org_roles=scoped)
    return Principal(system=is_system_admin, user_id=caller.user_id, key_id=caller.key_id, org_roles=roles)


def not_found(kind: str, object_id: str, param: str) -> NotFoundError:
    """The answer for a missing object and for another tenant's alike."""
    return NotFoundError(f"No {kind} with id '{object_id}'.", param=param, code=f"{kind}_not_found")


def require_org_member(principal: Principal, org_id: str) -> None:
    if not principal.is_member(org_id):
        raise not_found("organization", org_id, "org_id")


def require_org_admin(principal: Principal, org_id: str) -> None:
    """404 for an org the principal is not in; 403 for a plain member (they know the org exists)."""
    require_org_member(principal, org_id)
    if not principal.can_admin_org(org_id):
        raise PermissionDeniedError(
            f"Only an owner or admin of organization '{org_id}' may do this.", param="org_id", code="org_admin_only"
        )


async def system_principal(request: Request) -> Principal:
    """The dependency of routes only the system may use (catalog, providers, global usage)."""
    principal = await admin_principal(request)
    if not principal.system:
        raise PermissionDeniedError("Only a system admin may do this.", code="system_admin_only")
    return principal
