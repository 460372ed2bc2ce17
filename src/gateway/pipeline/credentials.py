"""Provider key resolution: user → org → system-tier → system-all → env → binding.

For a request, a provider's key is the first ACTIVE stored credential at the first level that has one —
the caller's user, the caller's org, the caller's effective tier, the system — then the env secret
(`<PROVIDER>_API_KEY`, or the names the manifest declares), then, for a provider reachable through the
Worker's `AI` binding, the binding itself (no key; in the Worker it serves before the env token, as before).
A provider with no key at any level fails as before (`provider_key_missing`); no other model is picked.

Stored credentials are decrypted on demand and cached per isolate for `cache_seconds`, keyed by
(provider, level, owner); a write or an invalidation in this isolate drops the cache. Another isolate
notices an invalid key when the provider rejects it there too (or when its cache entry expires).
A stored credential that does not open (its key id left GATEWAY_ENCRYPTION_KEY, or the secret is unset)
is skipped with an error log, so the request is served by the next level; it is not marked invalid.
When the database cannot be read, the request is served from the platform level (fail-open, logged).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from gateway.crypto import keyring
from gateway.crypto.keyring import EncryptionConfigError, Sealer, UnreadableCredential, aad_for
from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline.context import Caller
from gateway.ports import Clock, Database, DatabaseError, Ports
from gateway.ports.ai_binding import BINDING_BASE_URL
from gateway.providers import registry
from gateway.providers.base import Endpoint, ProviderManifest
from gateway.settings import Settings, env_prefix
from gateway.storage import credentials as credentials_sql
from gateway.timefmt import utc_text
from gateway.ttl_cache import TtlCache

log = logging.getLogger("gateway.credentials")

_PLACEHOLDER = re.compile(r"\{([A-Z0-9_]+)\}")
STORED_LEVELS = ("user", "org", "tier", "system")   # the stored scopes, in resolution order
PLATFORM_RANK = len(STORED_LEVELS)                  # env / binding / none: after every stored level
CACHE_SECONDS = 45.0
_NONE = object()  # cached "no active credential at this level"


def _missing(provider_id: str, setting: str) -> UpstreamError:
    return UpstreamError(
        ErrorCategory.AUTH,
        f"no credential configured for provider '{provider_id}' (set {setting})",
        provider=provider_id,
        code="provider_key_missing",
    )


def resolve_endpoint(
    provider: dict[str, Any], manifest: ProviderManifest, settings: Settings, *, ai_binding: bool = False
) -> tuple[Endpoint, str]:
    """The platform level: the endpoint and level ('binding', 'env' or 'none') from config alone.
    `ai_binding`: the platform offers the `AI` binding (the Worker); a manifest that can use it is then
    served by it, key level 'binding'."""
    provider_id = provider["id"]
    if ai_binding and manifest.ai_binding:
        return Endpoint(base_url=BINDING_BASE_URL, api_key=None), "binding"
    api_key, key_setting = _env_key(provider_id, manifest, settings)
    if api_key is None and manifest.requires_api_key:
        base_url(provider, manifest, settings)  # a missing base URL is the first thing to say
        raise _missing(provider_id, key_setting)
    return Endpoint(base_url=base_url(provider, manifest, settings), api_key=api_key), "env" if api_key else "none"


def _env_key(provider_id: str, manifest: ProviderManifest, settings: Settings) -> tuple[str | None, str]:
    names = manifest.env
    if names is not None:
        return settings.env.get(names.api_key) or None, names.api_key
    return settings.provider_api_key(provider_id), f"{env_prefix(provider_id)}_API_KEY"


def base_url(provider: dict[str, Any], manifest: ProviderManifest, settings: Settings) -> str:
    """The provider's base URL: the env override, else the provider row's, else the adapter's default."""
    provider_id = provider["id"]
    names = manifest.env
    if names is not None:
        override = settings.env.get(names.base_url) if names.base_url else None
    else:
        override = settings.provider_base_url(provider_id)
    url = override or provider.get("base_url") or manifest.default_base_url
    if url is None:
        raise UpstreamError(
            ErrorCategory.SERVER_ERROR,
            f"provider '{provider_id}' has no base URL configured",
            provider=provider_id,
        )
    if names is not None and names.base_path:
        url = url.rstrip("/") + _fill(names.base_path, settings, provider_id)
    return url


def _fill(path: str, settings: Settings, provider_id: str) -> str:
    def value(match: re.Match) -> str:
        found = settings.env.get(match.group(1))
        if not found:
            raise _missing(provider_id, match.group(1))
        return found

    return _PLACEHOLDER.sub(value, path)


@dataclass(frozen=True, slots=True)
class KeyChoice:
    """The key that serves a request: its endpoint, its level, and (stored levels) the credential's id.
    `rank` orders the levels (0 user … 3 system, 4 platform); a retry resolves again after it."""

    endpoint: Endpoint
    level: str
    rank: int
    provider: dict[str, Any]
    manifest: ProviderManifest
    credential_id: str | None = None
    masked_hint: str | None = None


@dataclass(frozen=True, slots=True)
class KeyPin:
    """Resolve as a provider job was created: its owner's key at exactly the level that started it. Polls
    and downloads of a job must reach the provider account that holds it — never the next level's."""

    level: str
    owner: Caller


class _Stored:
    """One cached stored credential; `plain` is filled on first use (decrypt on demand)."""

    __slots__ = ("row", "plain")

    def __init__(self, row: dict[str, Any]) -> None:
        self.row = row
        self.plain: str | None = None


class CredentialResolver:
    """The per-isolate resolution of provider keys (one instance per Gateway, shared by every pipeline)."""

    def __init__(self, database: Database, clock: Clock, sealer: Sealer, settings: Settings,
                 cache_seconds: float = CACHE_SECONDS) -> None:
        self._db = database
        self._clock = clock
        self.sealer = sealer
        self._settings = settings
        self._cache: TtlCache[tuple[str, str, str], Any] = TtlCache(cache_seconds, max_entries=4000)
        # Which providers a caller has some key for (auto routing asks on every request): per owners.
        self._keyed: TtlCache[tuple[Any, ...], frozenset[str]] = TtlCache(cache_seconds, max_entries=4000)

    @classmethod
    def for_ports(cls, ports: Ports, settings: Settings) -> "CredentialResolver":
        """The resolver over the platform's database, clock and cipher, keyed by GATEWAY_ENCRYPTION_KEY."""
        sealer = Sealer(ports.cipher, settings.env.get(keyring.SETTING))
        return cls(ports.database, ports.clock, sealer, settings)

    def invalidate(self) -> None:
        """A credential was written or deleted in this isolate: forget every cached one."""
        self._cache.clear()
        self._keyed.clear()

    async def choose(self, caller: Caller | None, provider: dict[str, Any], manifest: ProviderManifest, *,
                     ai_binding: bool = False, after: int = -1, pin: KeyPin | None = None) -> KeyChoice:
        """The first usable key at a level ranked after `after` (-1: from the top); with `pin`, the pinned
        owner's key at the pinned level only (a stored level that is gone is an error, not another key)."""
        if pin is not None:
            return await self._pinned(pin, provider, manifest, ai_binding)
        if after < PLATFORM_RANK - 1:
            for rank, stored in await self._stored(caller, provider["id"]):
                if rank <= after:
                    continue
                plain = await self._open(stored)
                if plain is not None:
                    endpoint = Endpoint(base_url=base_url(provider, manifest, self._settings), api_key=plain)
                    return KeyChoice(endpoint, STORED_LEVELS[rank], rank, provider, manifest,
                                     stored.row["id"], stored.row["masked_hint"])
        endpoint, level = resolve_endpoint(provider, manifest, self._settings, ai_binding=ai_binding)
        return KeyChoice(endpoint, level, PLATFORM_RANK, provider, manifest)

    async def has_key(self, caller: Caller | None, provider: dict[str, Any], manifest: ProviderManifest, *,
                      ai_binding: bool = False) -> bool:
        """Could `choose` serve this caller at some level? (The router's credentials filter: cached rows only.)"""
        if await self._stored(caller, provider["id"]):
            return True
        try:
            resolve_endpoint(provider, manifest, self._settings, ai_binding=ai_binding)
        except UpstreamError:
            return False
        return True

    async def keyed_providers(self, caller: Caller | None, providers: dict[str, dict[str, Any]], *,
                              ai_binding: bool = False) -> frozenset[str]:
        """The ids of `providers` the caller has a key for at some level (`has_key` of each), cached per
        caller's owners and provider set for the cache time, since auto routing asks on every request."""
        key = (tuple(_owners(caller)), ai_binding, tuple(providers))
        now = self._clock.monotonic()
        found = self._keyed.get(key, now)
        if found is None:
            keyed = set()
            for provider_id, provider in providers.items():
                manifest = registry.get(provider["adapter"])
                if manifest is not None and await self.has_key(caller, provider, manifest, ai_binding=ai_binding):
                    keyed.add(provider_id)
            found = frozenset(keyed)
            self._keyed.put(key, found, now)
        return found

    async def _pinned(self, pin: KeyPin, provider: dict[str, Any], manifest: ProviderManifest,
                      ai_binding: bool) -> KeyChoice:
        if pin.level not in STORED_LEVELS:  # env / binding / none: the platform's key, as at creation
            endpoint, level = resolve_endpoint(provider, manifest, self._settings, ai_binding=ai_binding)
            return KeyChoice(endpoint, level, PLATFORM_RANK, provider, manifest)
        rank = STORED_LEVELS.index(pin.level)
        for found_rank, stored in await self._stored(pin.owner, provider["id"]):
            if found_rank == rank and (plain := await self._open(stored)) is not None:
                endpoint = Endpoint(base_url=base_url(provider, manifest, self._settings), api_key=plain)
                return KeyChoice(endpoint, pin.level, rank, provider, manifest, stored.row["id"],
                                 stored.row["masked_hint"])
        raise UpstreamError(
            ErrorCategory.AUTH,
            f"The {pin.level}-level {provider['id']} key that started this job is no longer active; the job can "
            "only be reached with it (restore or re-add that credential).",
            provider=provider["id"], code="job_key_unavailable",
        )

    async def mark_invalid(self, choice: KeyChoice, error: UpstreamError) -> None:
        """The provider rejected a stored key: one UPDATE, and this isolate stops using it at once."""
        assert choice.credential_id is not None
        message = _redacted(error, choice)
        self.invalidate()
        try:
            await credentials_sql.mark_invalid(self._db, choice.credential_id, message, utc_text(self._clock.now()))
        except DatabaseError as exc:  # the request can still be served by the next level
            log.error("provider credential %s could not be marked invalid: %s", choice.credential_id, exc)
            return
        log.warning("provider credential %s (%s level, provider %s) rejected by the provider; marked invalid",
                    choice.credential_id, choice.level, choice.provider["id"])

    async def _stored(self, caller: Caller | None, provider_id: str) -> list[tuple[int, _Stored]]:
        """(rank, credential) of each stored level that has an active credential, in order."""
        owners = _owners(caller)
        now = self._clock.now()
        cached = [self._cache.get((provider_id, level, owner), now) for level, owner in owners]
        if any(entry is None for entry in cached):
            found: dict[tuple[str, str], _Stored] = {}
            user_id, org_id, tier_id = (caller.user_id, caller.org_id, caller.tier_id) if caller else (None,) * 3
            try:
                rows = await credentials_sql.active_for(self._db, provider_id, user_id, org_id, tier_id)
            except DatabaseError as exc:  # fail open to the platform level (the answer says `env`), not cached
                log.error("provider credentials for %s could not be read, serving from env: %s", provider_id, exc)
                return []
            for row in rows:
                found[(row["scope"], credentials_sql.owner_of(row) or "")] = _Stored(row)
            cached = []
            for level, owner in owners:
                entry = found.get((level, owner), _NONE)
                self._cache.put((provider_id, level, owner), entry, now)
                cached.append(entry)
        return [(STORED_LEVELS.index(level), entry)
                for (level, _), entry in zip(owners, cached) if entry is not _NONE]

    async def _open(self, stored: _Stored) -> str | None:
        if stored.plain is None:
            row = stored.row
            aad = aad_for(row["id"], row["provider_id"], row["scope"], credentials_sql.owner_of(row))
            try:
                stored.plain = await self.sealer.open(row["ciphertext"], row["encryption_key_id"], aad)
            except (UnreadableCredential, EncryptionConfigError) as exc:
                log.error("provider credential %s (%s level) cannot be opened, skipped: %s",
                          row["id"], row["scope"], exc.message if isinstance(exc, EncryptionConfigError) else exc)
                return None
        return stored.plain


def _owners(caller: Caller | None) -> list[tuple[str, str]]:
    """(level, owner id) of each stored level that applies to the caller, in resolution order."""
    owners = []
    if caller is not None:
        for level, owner in (("user", caller.user_id), ("org", caller.org_id), ("tier", caller.tier_id)):
            if owner is not None:
                owners.append((level, owner))
    owners.append(("system", ""))
    return owners


def is_rejected_key(choice: KeyChoice, error: UpstreamError) -> bool:
    """The provider answered that this stored key is invalid (not a missing env key, not a rate limit)."""
    return choice.credential_id is not None and error.category is ErrorCategory.AUTH and error.upstream_status is not None


def is_exhausted_key(choice: KeyChoice, error: UpstreamError) -> bool:
    """A stored key whose provider account is out of credit: the next level may still serve."""
    return choice.credential_id is not None and error.category is ErrorCategory.QUOTA_EXCEEDED


def _redacted(error: UpstreamError, choice: KeyChoice) -> str:
    """What the owner sees in last_error: the provider's status and message, the key itself masked."""
    message = error.message
    secret = choice.endpoint.api_key
    if secret:
        message = message.replace(secret, choice.masked_hint or "***")
    return f"{error.upstream_status} {error.code}: {message}"[:500]
