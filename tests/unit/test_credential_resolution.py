"""The 6-level key resolution over real SQLite: user → org → tier → system → env, the isolate cache and its
invalidation, invalid keys skipped, unreadable rows skipped, and rotation (reseal) losing nothing."""

from __future__ import annotations

import asyncio
import base64
import sys

import pytest

from gateway.crypto.keyring import Sealer, aad_for
from gateway.crypto.rotation import reseal_batch
from gateway.errors import ErrorCategory, UpstreamError
from gateway.pipeline.context import Caller
from gateway.pipeline.credentials import CredentialResolver
from gateway.ports import DatabaseError
from gateway.ports.fakes import FakeClock
from gateway.providers import registry
from gateway.settings import Settings
from gateway.storage import credentials as credentials_sql

K1 = base64.b64encode(bytes([1]) * 32).decode()
K2 = base64.b64encode(bytes([2]) * 32).decode()
OPENAI = registry.get("openai")
OPENAI_ROW = {"id": "openai", "adapter": "openai", "base_url": None}
CALLER = Caller(key_id="key_1", user_id="usr_a", org_id="org_a", tier_id="personal")


@pytest.fixture
def cipher():
    if sys.platform == "emscripten":
        from gateway.ports.cloudflare import WebCryptoCipher

        return WebCryptoCipher()
    from gateway.ports.local_crypto import AesGcmCipher

    return AesGcmCipher()


@pytest.fixture
def tenants(db):
    async def seed():
        await db.query("INSERT INTO users (id, email) VALUES ('usr_a', 'a@example.com'), ('usr_b', 'b@example.com')")
        await db.query("INSERT INTO organizations (id, name, slug) VALUES ('org_a', 'A', 'a'), ('org_b', 'B', 'b')")

    asyncio.run(seed())
    return db


def store(db, sealer, scope, owner, api_key, provider="openai", cred_id=None):
    cred_id = cred_id or f"cred_{scope}_{owner or 'all'}_{api_key}"
    stored, kid = asyncio.run(sealer.seal(api_key, aad_for(cred_id, provider, scope, owner)))
    row = {"id": cred_id, "provider_id": provider, "scope": scope, "user_id": owner if scope == "user" else None,
           "org_id": owner if scope == "org" else None, "tier_id": owner if scope == "tier" else None,
           "ciphertext": stored, "encryption_key_id": kid, "masked_hint": "…"}
    return asyncio.run(credentials_sql.replace(db, row, "2026-11-27 10:00:00.000"))["id"]


def resolver(db, cipher, secret=f"k1:{K1}", clock=None):
    settings = Settings.from_env({"OPENAI_API_KEY": "sk-env", "GATEWAY_ENCRYPTION_KEY": secret or ""})
    return CredentialResolver(db, clock or FakeClock(), Sealer(cipher, secret), settings)


def choose(res, caller=CALLER, after=-1):
    return asyncio.run(res.choose(caller, OPENAI_ROW, OPENAI, after=after))


def test_each_level_wins_when_it_is_the_first_with_a_key(tenants, cipher):
    db, sealer = tenants, Sealer(cipher, f"k1:{K1}")
    res = resolver(db, cipher)
    assert (choose(res).level, choose(res).endpoint.api_key) == ("env", "sk-env")
    for scope, owner, key in (("system", None, "sk-system"), ("tier", "personal", "sk-tier"),
                              ("org", "org_a", "sk-org"), ("user", "usr_a", "sk-user")):
        store(db, sealer, scope, owner, key)
        res.invalidate()
        chosen = choose(res)
        assert (chosen.level, chosen.endpoint.api_key) == (scope, key)
        assert chosen.endpoint.base_url == "https://api.openai.com/v1"


def test_other_tenants_and_tiers_never_serve(tenants, cipher):
    db, sealer = tenants, Sealer(cipher, f"k1:{K1}")
    store(db, sealer, "user", "usr_b", "sk-b")
    store(db, sealer, "org", "org_b", "sk-org-b")
    store(db, sealer, "tier", "business", "sk-business")
    chosen = choose(resolver(db, cipher))
    assert (chosen.level, chosen.endpoint.api_key) == ("env", "sk-env")


def test_a_retry_resolves_below_the_failed_level(tenants, cipher):
    db, sealer = tenants, Sealer(cipher, f"k1:{K1}")
    store(db, sealer, "user", "usr_a", "sk-user")
    store(db, sealer, "system", None, "sk-system")
    res = resolver(db, cipher)
    first = choose(res)
    assert first.level == "user"
    assert choose(res, after=first.rank).level == "system"
    assert choose(res, after=3).level == "env"


def test_the_cache_serves_until_a_write_invalidates_it_or_it_expires(tenants, cipher):
    db, sealer = tenants, Sealer(cipher, f"k1:{K1}")
    clock = FakeClock()
    res = resolver(db, cipher, clock=clock)
    assert choose(res).level == "env"
    store(db, sealer, "user", "usr_a", "sk-user")  # written behind the resolver's back (another isolate)
    assert choose(res).level == "env"
    clock.advance(46)
    assert choose(res).level == "user"
    asyncio.run(db.query("DELETE FROM provider_credentials"))
    assert choose(res).level == "user"
    res.invalidate()
    assert choose(res).level == "env"


def test_a_rejected_key_is_marked_invalid_and_skipped(tenants, cipher):
    db, sealer = tenants, Sealer(cipher, f"k1:{K1}")
    cred = store(db, sealer, "user", "usr_a", "sk-user-revoked-1234")
    res = resolver(db, cipher)
    chosen = choose(res)
    error = UpstreamError(ErrorCategory.AUTH, "Incorrect API key provided: sk-user-revoked-1234",
                          upstream_status=401, code="invalid_api_key", provider="openai")
    asyncio.run(res.mark_invalid(chosen, error))
    row = asyncio.run(credentials_sql.get(db, cred))
    assert row["status"] == "invalid" and row["last_failed_at"] is not None
    assert row["last_error"].startswith("401 invalid_api_key: Incorrect API key") and "sk-user-revoked-1234" not in row["last_error"]
    assert choose(res).level == "env"
    assert choose(resolver(db, cipher)).level == "env"  # a fresh isolate reads the status from the database


def test_a_row_that_does_not_open_is_skipped_not_marked(tenants, cipher):
    db, sealer = tenants, Sealer(cipher, f"k1:{K1}")
    cred = store(db, sealer, "user", "usr_a", "sk-user")
    store(db, sealer, "org", "org_a", "sk-org")
    chosen = choose(resolver(db, cipher, secret=f"k2:{K2}"))
    assert chosen.level == "env"  # neither opens under k2 alone
    asyncio.run(db.query("UPDATE provider_credentials SET org_id = NULL, scope = 'system' WHERE scope = 'org'"))
    chosen = choose(resolver(db, cipher))
    assert (chosen.level, chosen.endpoint.api_key) == ("user", "sk-user")
    assert choose(resolver(db, cipher), after=0).level == "env"  # the moved ciphertext does not open as system's
    assert asyncio.run(credentials_sql.get(db, cred))["status"] == "active"
    assert choose(resolver(db, cipher, secret=None)).level == "env"  # no secret: env keys keep working


def test_rotation_reseals_every_row_and_loses_none(tenants, cipher):
    db, old = tenants, Sealer(cipher, f"k1:{K1}")
    keys = {"user": "sk-user", "org": "sk-org", "tier": "sk-tier", "system": "sk-system"}
    owners = {"user": "usr_a", "org": "org_a", "tier": "personal", "system": None}
    for scope, key in keys.items():
        store(db, old, scope, owners[scope], key)
    rotated = Sealer(cipher, f"k2:{K2},k1:{K1}")
    first = asyncio.run(reseal_batch(db, FakeClock(), rotated, 3))
    assert first == {"current_key_id": "k2", "resealed": 3, "unreadable": 0, "remaining": 1}
    second = asyncio.run(reseal_batch(db, FakeClock(), rotated, 3))
    assert second == {"current_key_id": "k2", "resealed": 1, "unreadable": 0, "remaining": 0}
    res = resolver(db, cipher, secret=f"k2:{K2}")  # the old key dropped
    for after, scope in enumerate(("user", "org", "tier", "system")):
        chosen = choose(res, after=after - 1)
        assert (chosen.level, chosen.endpoint.api_key) == (scope, keys[scope])


def test_rotation_counts_rows_whose_key_is_gone(tenants, cipher):
    db = tenants
    store(db, Sealer(cipher, f"k1:{K1}"), "system", None, "sk-system")
    outcome = asyncio.run(reseal_batch(db, FakeClock(), Sealer(cipher, f"k2:{K2}"), 10))
    assert outcome == {"current_key_id": "k2", "resealed": 0, "unreadable": 1, "remaining": 1}


class CredentialsTableDown:
    """The database, except that every statement on provider_credentials fails (D1 unavailable)."""

    def __init__(self, db, down: bool = True) -> None:
        self._db = db
        self.down = down

    async def query(self, sql, params=()):
        if self.down and "provider_credentials" in sql:
            raise DatabaseError("D1_ERROR: unavailable")
        return await self._db.query(sql, params)

    async def batch(self, statements):
        return await self._db.batch(statements)


def test_an_unreadable_credentials_table_serves_from_env(tenants, cipher):
    store(tenants, Sealer(cipher, f"k1:{K1}"), "user", "usr_a", "sk-user")
    res = resolver(CredentialsTableDown(tenants), cipher)
    assert choose(res).level == "env"
    assert choose(resolver(tenants, cipher)).level == "user"


def test_a_failed_invalid_mark_still_lets_the_request_move_down(tenants, cipher):
    store(tenants, Sealer(cipher, f"k1:{K1}"), "user", "usr_a", "sk-user")
    database = CredentialsTableDown(tenants, down=False)
    res = resolver(database, cipher)
    chosen = choose(res)
    database.down = True
    asyncio.run(res.mark_invalid(chosen, UpstreamError(ErrorCategory.AUTH, "bad key", upstream_status=401)))
    assert choose(res, after=chosen.rank).level == "env"
