"""A key's allowed models and providers: exact ids, 'provider/*' patterns, provider lists."""

from __future__ import annotations

import pytest

from gateway.errors import PermissionDeniedError
from gateway.pipeline.context import Caller, Target
from gateway.pipeline.key_policy import enforce_key_policy, model_matches

MINI = Target(provider_id="openai", adapter="openai", upstream_model="gpt-4o-mini", model_id="openai/gpt-4o-mini")
CLAUDE = Target(provider_id="anthropic", adapter="anthropic", upstream_model="claude-x", model_id="anthropic/claude-x")


@pytest.mark.parametrize(("pattern", "model_id", "allowed"), [
    ("openai/gpt-4o-mini", "openai/gpt-4o-mini", True),
    ("openai/gpt-4o", "openai/gpt-4o-mini", False),        # exact ids are exact, not prefixes
    ("openai/*", "openai/gpt-4o-mini", True),
    ("openai/*", "openai-compatible/x", False),            # the provider, not a name prefix
    ("open/*", "openai/gpt-4o-mini", False),
])
def test_model_patterns(pattern, model_id, allowed):
    assert model_matches(pattern, model_id) is allowed


def refusal(caller, target) -> PermissionDeniedError:
    with pytest.raises(PermissionDeniedError) as raised:
        enforce_key_policy(caller, target)
    assert raised.value.status == 403 and raised.value.param == "model"
    assert raised.value.code == "model_not_allowed"
    return raised.value


def test_no_restriction_allows_everything():
    enforce_key_policy(Caller(key_id="k"), MINI)
    enforce_key_policy(None, MINI)


def test_allowed_models():
    caller = Caller(key_id="k", allowed_models=("openai/*",))
    enforce_key_policy(caller, MINI)
    assert "anthropic/claude-x" in refusal(caller, CLAUDE).message


def test_allowed_providers():
    caller = Caller(key_id="k", allowed_providers=("anthropic",))
    enforce_key_policy(caller, CLAUDE)
    assert "openai" in refusal(caller, MINI).message


def test_both_lists_must_allow_the_target():
    caller = Caller(key_id="k", allowed_models=("openai/gpt-4o-mini",), allowed_providers=("anthropic",))
    refusal(caller, MINI)
    refusal(caller, CLAUDE)


def test_an_empty_list_allows_nothing():
    refusal(Caller(key_id="k", allowed_models=()), MINI)
