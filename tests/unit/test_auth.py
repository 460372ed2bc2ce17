"""Gateway key authentication: where the key is read from, and what the database and the cache answer."""

from __future__ import annotations

import asyncio

import pytest

from gateway.errors import AuthenticationError
from gateway.pipeline.auth import KeyAuthenticator, extract_key, is_admin_key
from gateway.pipeline.context import Caller
from gateway.ports.fakes import FakeClock
from gateway.storage import keys
from gateway.timefmt import utc_text

# --- extract_key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "key"),
    [
        ({"authorization": "Bearer gw-abc"}, "gw-abc"),
        ({"authorization": "bearer gw-abc"}, "gw-abc"),
        ({"authorization": "BEARER   gw-abc  "}, "gw-abc"),
        ({"x-api-key": "gw-abc"}, "gw-abc"),
        ({"x-api-key": "  gw-abc "}, "gw-abc"),
        ({"authorization": "Bearer gw-bearer", "x-api-key": "gw-header"}, "gw-bearer"),
        ({"authorization": "Basic dXNlcjpwYXNz", "x-api-key": "gw-abc"}, "gw-abc"),
        ({"authorization": "Bearer ", "x-api-key": "gw-abc"}, "gw-abc"),
        ({"authorization": "gw-abc"}, None),  # no scheme
        ({"authorization": "Basic dXNlcjpwYXNz"}, None),
        ({"authorization": "Bearer    "}, None),
        ({"x-api-key": "   "}, None),
        ({}, None),
    ],
)
def test_extract_key(headers, key):
    assert extract_key(headers) == key


def test_admin_key_must_match_exactly_and_be_configured():
    assert is_admin_key("s3cret", "s3cret")
    assert not is_admin_key("s3cret ", "s3cret")
    assert not is_admin_key("S3CRET", "s3cret")
    assert not is_admin_key(None, "s3cret")
    assert not is_admin_key("", "")
    assert not is_admin_key("anything", None)


# --- KeyAuthenticator ----------------------------------------------------------------------------

TTL = 10.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def auth(db, clock) -> KeyAuthenticator:
    return KeyAuthenticator(db, clock, cache_seconds=TTL)


def create_key(db, raw_key: str, key_id: str = "key_1", **fields) -> None:
    asyncio.run(keys.create(db, key_id, raw_key, fields))


def authenticate(auth: KeyAuthenticator, raw_key: str | None) -> Caller:
    return asyncio.run(auth.authenticate(raw_key))


def rejection(auth: KeyAuthenticator, raw_key: str | None) -> AuthenticationError:
    with pytest.raises(AuthenticationError) as raised:
        authenticate(auth, raw_key)
    assert raised.value.status == 401
    return raised.value


def revoke(db, key_id: str = "key_1") -> None:
    asyncio.run(db.query("UPDATE gateway_keys SET status = 'revoked' WHERE id = ?", (key_id,)))


def test_valid_key_names_its_owner(db, auth):
    asyncio.run(db.query("INSERT INTO users (id, email) VALUES ('u1', 'a@example.com')"))
    create_key(db, "gw-valid-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", user_id="u1", tier_id="professional")
    assert authenticate(auth, "gw-valid-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk") == Caller(key_id="key_1", user_id="u1", org_id=None, tier_id="professional")


def test_the_key_is_stored_only_as_its_hash(db):
    create_key(db, "gw-secret-value-kkkkkkkkkkkkkkkkkkkkkkkkk")
    row = asyncio.run(db.query("SELECT * FROM gateway_keys")).rows[0]
    assert "gw-secret-value-kkkkkkkkkkkkkkkkkkkkkkkkk" not in row.values()
    assert row["key_hash"] == keys.hash_key("gw-secret-value-kkkkkkkkkkkkkkkkkkkkkkkkk")


def test_missing_key(auth):
    assert rejection(auth, None).code == "missing_api_key"


def test_unknown_key(db, auth):
    create_key(db, "gw-valid-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    error = rejection(auth, "gw-valid-but-not-quite-kkkkkkkkkkkkkkkkkk")
    assert error.code == "invalid_api_key"


def test_revoked_key(db, auth):
    create_key(db, "gw-revoked-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    revoke(db)
    assert rejection(auth, "gw-revoked-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").code == "revoked_api_key"


def test_expired_key(db, auth, clock):
    create_key(db, "gw-old-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", expires_at=utc_text(clock.now() - 1))
    assert rejection(auth, "gw-old-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").code == "expired_api_key"


def test_key_expiring_later_works_until_then_even_when_cached(db, auth, clock):
    create_key(db, "gw-soon-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk", expires_at=utc_text(clock.now() + 5))
    assert authenticate(auth, "gw-soon-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").key_id == "key_1"
    clock.advance(4.9)
    assert authenticate(auth, "gw-soon-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").key_id == "key_1"
    clock.advance(0.1)  # still within the cache TTL: expiry is checked on every request
    assert rejection(auth, "gw-soon-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").code == "expired_api_key"


def test_cache_serves_a_revoked_key_within_its_ttl_and_not_after(db, auth, clock):
    create_key(db, "gw-cached-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    authenticate(auth, "gw-cached-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    revoke(db)  # in the database, as another isolate would
    clock.advance(TTL - 0.001)
    assert authenticate(auth, "gw-cached-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").key_id == "key_1"
    clock.advance(0.001)
    assert rejection(auth, "gw-cached-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").code == "revoked_api_key"


def test_cache_answers_without_the_database(db, auth, clock):
    create_key(db, "gw-cached-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    authenticate(auth, "gw-cached-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    asyncio.run(db.query("DELETE FROM gateway_keys"))
    assert authenticate(auth, "gw-cached-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").key_id == "key_1"
    clock.advance(TTL)
    assert rejection(auth, "gw-cached-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").code == "invalid_api_key"


def test_forget_makes_a_revocation_effective_at_once(db, auth):
    create_key(db, "gw-forget-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    authenticate(auth, "gw-forget-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    revoke(db)
    auth.forget(keys.hash_key("gw-forget-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk"))
    assert rejection(auth, "gw-forget-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").code == "revoked_api_key"


def test_unknown_keys_are_not_cached_so_a_new_key_works_at_once(db, auth):
    rejection(auth, "gw-new-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    create_key(db, "gw-new-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    assert authenticate(auth, "gw-new-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").key_id == "key_1"


def test_zero_ttl_disables_the_cache(db, clock):
    auth = KeyAuthenticator(db, clock, cache_seconds=0)
    create_key(db, "gw-nocache-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    authenticate(auth, "gw-nocache-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk")
    revoke(db)
    assert rejection(auth, "gw-nocache-kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk").code == "revoked_api_key"
