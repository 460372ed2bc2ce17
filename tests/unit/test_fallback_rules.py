"""Fallback chain rules (pipeline/fallback_rules.py): which rule applies, the per-isolate cache, failing
open to the built-in defaults, and those defaults being exactly what migration 0020 seeds."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import pytest

from gateway.pipeline.fallback_rules import (
    DEFAULT_RULES, ChainRule, ChainRules, rule_of, rules_for, select_rule, valid_auto,
)
from gateway.ports import DatabaseError
from gateway.ports.fakes import FakeClock
from gateway.storage import fallback_chains as chains_sql

ORG = "org_a"


def rule(pattern: str, org_id: str | None = None, category: str = "rate_limit", chain: tuple[str, ...] = ()) -> ChainRule:
    return ChainRule(f"{org_id}:{category}:{pattern}", org_id, category, pattern, chain, True, 3)


def chosen(rules, model: str, org_id: str | None = ORG, category: str = "rate_limit") -> str | None:
    picked = select_rule(rules, org_id, category, model)
    return None if picked is None else picked.model_pattern


# --- select_rule ---------------------------------------------------------------------------------

SPECIFIC = [rule("*"), rule("openai/*"), rule("openai/gpt-4o*"), rule("openai/gpt-4o-mini"), rule("openai/gpt-4?-mini")]


@pytest.mark.parametrize("model, pattern", [
    ("openai/gpt-4o-mini", "openai/gpt-4o-mini"),   # exact beats every wildcard
    ("openai/gpt-4o", "openai/gpt-4o*"),            # literal prefix 13 > 7 > 0
    ("openai/gpt-4a-mini", "openai/gpt-4?-mini"),   # '?' is a wildcard: prefix 12 > 'openai/*' 7
    ("openai/o3", "openai/*"),
    ("groq/llama-3.1-8b-instant", "*"),
])
def test_the_most_specific_matching_pattern_wins(model, pattern):
    assert chosen(SPECIFIC, model) == pattern
    assert chosen(list(reversed(SPECIFIC)), model) == pattern  # never the order of the rows


def test_equal_prefixes_prefer_the_longer_pattern_then_the_first_in_sort_order():
    assert chosen([rule("openai/*"), rule("openai/*-mini")], "openai/gpt-4o-mini") == "openai/*-mini"
    both = [rule("openai/*b*"), rule("openai/*a*")]
    assert chosen(both, "openai/ab") == "openai/*a*"
    assert chosen(list(reversed(both)), "openai/ab") == "openai/*a*"


def test_an_orgs_rule_beats_a_more_specific_global_one():
    rules = [rule("openai/gpt-4o-mini"), rule("*", org_id=ORG)]
    assert select_rule(rules, ORG, "rate_limit", "openai/gpt-4o-mini").org_id == ORG
    # ... but only when one of the org's rules matches the model
    rules = [rule("openai/gpt-4o-mini"), rule("anthropic/*", org_id=ORG)]
    assert select_rule(rules, ORG, "rate_limit", "openai/gpt-4o-mini").org_id is None


def test_other_orgs_rules_and_other_categories_never_apply():
    rules = [rule("*", org_id="org_b", chain=("x/y",)), rule("*", category="timeout"), rule("anthropic/*")]
    assert select_rule(rules, ORG, "rate_limit", "openai/gpt-4o-mini") is None
    assert select_rule(rules, None, "rate_limit", "openai/gpt-4o-mini") is None
    assert select_rule(rules, ORG, "timeout", "openai/gpt-4o-mini").model_pattern == "*"


def test_a_request_without_an_org_uses_the_global_rules_only():
    rules = [rule("*", org_id=ORG), rule("openai/*")]
    assert select_rule(rules, None, "rate_limit", "openai/gpt-4o").org_id is None


def test_matching_is_case_sensitive_and_star_spans_slashes():
    assert chosen([rule("OpenAI/*")], "openai/gpt-4o") is None
    assert chosen([rule("*mini")], "openai/gpt-4o-mini") == "*mini"


def test_invalid_request_never_has_a_rule_even_if_a_row_says_so():
    rules = [rule("*", category="invalid_request"), rule("*", org_id=ORG, category="invalid_request")]
    assert select_rule(rules, ORG, "invalid_request", "openai/gpt-4o-mini") is None
    assert select_rule(DEFAULT_RULES, ORG, "invalid_request", "openai/gpt-4o-mini") is None


def test_auto_entries():
    assert valid_auto("auto") and valid_auto("auto/cheapest") and valid_auto("auto/balanced")
    assert not valid_auto("auto/fast") and not valid_auto("auto/") and not valid_auto("openai/gpt-4o")


# --- the defaults ----------------------------------------------------------------------------------

def test_the_built_in_defaults_are_the_migrations_rows(db):
    rows = asyncio.run(chains_sql.rules_for_org(db, None))
    assert sorted(map(rule_of, rows), key=lambda r: r.id) == sorted(DEFAULT_RULES, key=lambda r: r.id)
    assert {r.error_type for r in DEFAULT_RULES} == {
        "rate_limit", "server_error", "timeout", "model_not_found", "auth", "quota_exceeded", "context_length",
        "content_filter"}  # every category but invalid_request


def test_what_the_defaults_say():
    by_type = {r.error_type: r for r in DEFAULT_RULES}
    assert by_type["context_length"].chain == ("auto",) and by_type["context_length"].max_attempts == 2
    assert by_type["content_filter"].chain == () and not by_type["content_filter"].allow_workers_ai
    assert by_type["rate_limit"].allow_workers_ai and by_type["rate_limit"].max_attempts == 3


def test_a_row_whose_chain_is_not_a_list_of_strings_is_skipped():
    base = {"id": "x", "org_id": None, "error_type": "timeout", "model_pattern": "*", "allow_workers_ai": 1,
            "max_attempts": 3}
    assert rule_of({**base, "chain": '["openai/gpt-4o"]'}).chain == ("openai/gpt-4o",)
    for bad in ("not json", '{"a": 1}', "[1, 2]", None):
        assert rule_of({**base, "chain": bad}) is None


# --- ChainRules ---------------------------------------------------------------------------------

class CountingDatabase:
    """The real SQLite database, counting statements; `broken` makes every statement fail as D1 would."""

    def __init__(self, inner) -> None:
        self.inner, self.queries, self.broken, self.during_query = inner, 0, False, None

    async def query(self, sql, params=()):
        self.queries += 1
        if self.broken:
            raise DatabaseError("D1_ERROR: network connection lost")
        result = await self.inner.query(sql, params)
        if self.during_query is not None:
            self.during_query()
        return result

    async def batch(self, statements):
        return await self.inner.batch(statements)


def add_org_rule(db, org_id: str = ORG, chain: str = '["groq/llama-3.1-8b-instant"]') -> None:
    asyncio.run(db.query("INSERT INTO organizations (id, name, slug) VALUES (?, ?, ?)", (org_id, org_id, org_id)))
    asyncio.run(chains_sql.insert_chain(db, "fc_org", {"org_id": org_id, "error_type": "rate_limit",
                                                      "model_pattern": "openai/*", "chain": chain}))


def test_an_orgs_rules_are_its_own_and_the_global_ones_in_one_query(db):
    add_org_rule(db)
    counting = CountingDatabase(db)
    rules = asyncio.run(ChainRules(counting, FakeClock(), 60).for_org(ORG))
    assert counting.queries == 1
    assert {r.id for r in rules} == {r.id for r in DEFAULT_RULES} | {"fc_org"}
    picked = select_rule(rules, ORG, "rate_limit", "openai/gpt-4o-mini")
    assert picked.id == "fc_org" and picked.chain == ("groq/llama-3.1-8b-instant",)
    global_only = asyncio.run(ChainRules(db, FakeClock(), 60).for_org(None))
    assert {r.id for r in global_only} == {r.id for r in DEFAULT_RULES}


def test_another_orgs_rows_are_not_loaded(db):
    add_org_rule(db, "org_b")
    rules = asyncio.run(ChainRules(db, FakeClock(), 60).for_org(ORG))
    assert {r.id for r in rules} == {r.id for r in DEFAULT_RULES}


def test_rules_are_cached_for_the_ttl_and_invalidate_drops_them(db):
    clock = FakeClock()
    counting = CountingDatabase(db)
    rules = ChainRules(counting, clock, 30)
    first = asyncio.run(rules.for_org(ORG))
    add_org_rule(db)  # written behind the cache's back (another isolate)
    assert asyncio.run(rules.for_org(ORG)) == first and counting.queries == 1
    clock.advance(31)
    assert "fc_org" in {r.id for r in asyncio.run(rules.for_org(ORG))} and counting.queries == 2
    asyncio.run(db.query("UPDATE fallback_chains SET max_attempts = 7 WHERE id = 'fc_org'"))
    rules.invalidate()  # what an admin write in this isolate does
    assert {r.id: r.max_attempts for r in asyncio.run(rules.for_org(ORG))}["fc_org"] == 7


def test_a_read_that_an_invalidate_overtook_is_not_cached(db):
    counting = CountingDatabase(db)
    rules = ChainRules(counting, FakeClock(), 60)
    counting.during_query = rules.invalidate  # an admin write lands while the read is in flight
    asyncio.run(rules.for_org(ORG))
    counting.during_query = None
    asyncio.run(rules.for_org(ORG))
    assert counting.queries == 2


def test_an_unreadable_database_answers_the_defaults_and_is_asked_again(db, caplog):
    add_org_rule(db)
    counting = CountingDatabase(db)
    counting.broken = True
    rules = ChainRules(counting, FakeClock(), 60)
    assert asyncio.run(rules.for_org(ORG)) == DEFAULT_RULES
    assert "built-in defaults" in caplog.text
    counting.broken = False
    assert "fc_org" in {r.id for r in asyncio.run(rules.for_org(ORG))}  # the failure was not cached


def test_one_chain_rules_per_ports_with_the_catalog_ttl_capped_at_60(db):
    ports = SimpleNamespace(database=db, clock=FakeClock())
    settings = SimpleNamespace(catalog_cache_seconds=600.0)
    shared = rules_for(ports, settings)
    assert rules_for(ports, settings) is shared
    assert rules_for(SimpleNamespace(database=db, clock=FakeClock()), settings) is not shared
    asyncio.run(shared.for_org(None))
    ports.clock.advance(61)  # past the 60 s cap, not the 600 s setting: read again
    asyncio.run(db.query("DELETE FROM fallback_chains WHERE id = 'default-timeout'"))
    assert "default-timeout" not in {r.id for r in asyncio.run(shared.for_org(None))}
