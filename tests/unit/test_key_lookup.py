"""Gateway key lookup: by the visible prefix (an indexed equality), then the SHA-256 hashes of the
candidates compared in constant time; keys sharing a prefix, legacy prefixes, last_used_at batching."""

from __future__ import annotations

import asyncio
import hmac

import pytest

from gateway.errors import AuthenticationError
from gateway.pipeline.auth import MAX_CACHE_SECONDS, KeyAuthenticator
from gateway.ports.fakes import FakeClock
from gateway.storage import keys

SHARED_PREFIX = "gw-SamePrefix"  # 13 characters: both keys below share their 15-character prefix
FIRST = SHARED_PREFIX + "AA" + "first-key-tail-of-the-secret-abcdefghijk"
SECOND = SHARED_PREFIX + "AA" + "second-key-tail-of-the-secret-abcdefghij"


def run(coroutine):
    return asyncio.run(coroutine)


def test_two_keys_with_the_same_prefix_both_work_and_a_third_does_not(db):
    run(keys.create(db, "key_a", FIRST, {}))
    run(keys.create(db, "key_b", SECOND, {}))
    prefixes = run(db.query("SELECT DISTINCT prefix FROM gateway_keys")).rows
    assert prefixes == [{"prefix": FIRST[:15]}]  # one prefix, two keys
    assert run(keys.find_by_key(db, FIRST)).id == "key_a"
    assert run(keys.find_by_key(db, SECOND)).id == "key_b"
    assert run(keys.find_by_key(db, SHARED_PREFIX + "AA" + "third-key-never-issued-abcdefghijklmnop")) is None


def test_the_hash_comparison_is_hmac_compare_digest_over_every_candidate(db, monkeypatch):
    run(keys.create(db, "key_a", FIRST, {}))
    run(keys.create(db, "key_b", SECOND, {}))
    calls = []
    real_compare = hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real_compare(a, b)

    monkeypatch.setattr(keys.hmac, "compare_digest", spy)
    assert run(keys.find_by_key(db, SECOND)).id == "key_b"
    presented = keys.hash_key(SECOND).encode()
    # Both candidates compared (no early exit), always against the presented key's SHA-256, never the key.
    assert sorted(stored for stored, _ in calls) == sorted([keys.hash_key(FIRST).encode(), presented])
    assert all(given == presented for _, given in calls)


def test_the_lookup_asks_the_database_by_prefix_not_by_hash(db):
    statements = []
    original = db.query

    async def recording(sql, params=()):
        statements.append((sql, tuple(params)))
        return await original(sql, params)

    db.query = recording
    run(keys.find_by_key(db, FIRST))
    [(sql, params)] = statements
    assert "k.prefix IN (?, ?)" in sql and "key_hash =" not in sql
    assert params == (FIRST[:15], FIRST[:11])
    plan = run(original("EXPLAIN QUERY PLAN SELECT id FROM gateway_keys WHERE prefix IN (?, ?)", params)).rows
    assert any("idx_gateway_keys_prefix" in row["detail"] for row in plan)


def test_keys_made_before_0014_with_an_11_character_prefix_keep_working(db):
    legacy = "gw-legacyKeyFromBeforeTheLongerPrefix-abcdefg"
    run(db.query("INSERT INTO gateway_keys (id, key_hash, prefix) VALUES ('key_old', ?, ?)",
                 (keys.hash_key(legacy), legacy[:11])))
    assert run(keys.find_by_key(db, legacy)).id == "key_old"


def test_new_keys_have_a_15_character_prefix_and_256_random_bits():
    raw = keys.generate_key()
    assert raw.startswith("gw-") and len(raw) == 3 + 43
    assert keys.visible_prefix(raw) == raw[:15]


def test_a_key_no_longer_than_twice_its_prefix_is_refused(db):
    with pytest.raises(ValueError):
        run(keys.create(db, "key_short", "gw-short-key", {}))
    assert run(db.query("SELECT COUNT(*) AS n FROM gateway_keys")).rows == [{"n": 0}]


class _Deferred:
    def __init__(self):
        self.work = []

    def defer(self, work):
        self.work.append(work)


def test_last_used_at_is_written_off_the_request_path_once_per_cache_period(db):
    clock, background = FakeClock(), _Deferred()
    auth = KeyAuthenticator(db, clock, cache_seconds=10, background=background)
    run(keys.create(db, "key_a", FIRST, {}))
    run(keys.create(db, "key_b", SECOND, {}))
    for raw in (FIRST, SECOND, FIRST, FIRST):
        run(auth.authenticate(raw))
    assert len(background.work) == 1  # one batch for both keys, none for cache hits
    assert run(db.query("SELECT last_used_at FROM gateway_keys WHERE last_used_at IS NOT NULL")).rows == []
    run(background.work.pop())
    used = run(db.query("SELECT id, last_used_at FROM gateway_keys ORDER BY id")).rows
    assert [row["id"] for row in used] == ["key_a", "key_b"] and all(row["last_used_at"] for row in used)


def test_the_key_cache_never_outlives_60_seconds(db):
    clock = FakeClock()
    auth = KeyAuthenticator(db, clock, cache_seconds=3600)
    run(keys.create(db, "key_a", FIRST, {}))
    run(auth.authenticate(FIRST))
    run(db.query("UPDATE gateway_keys SET status = 'revoked'"))
    clock.advance(MAX_CACHE_SECONDS)
    with pytest.raises(AuthenticationError) as refused:
        run(auth.authenticate(FIRST))
    assert refused.value.code == "revoked_api_key"
