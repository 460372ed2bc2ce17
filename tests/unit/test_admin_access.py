"""The admin principal's rules: which keys it may see and which keys' limits it may change."""

from __future__ import annotations

import pytest

from gateway.api.admin_access import SYSTEM, Principal, require_org_admin
from gateway.errors import NotFoundError, PermissionDeniedError

OWNER = Principal(system=False, user_id="u_owner", org_roles={"org_a": "owner", "org_b": "member"})


@pytest.mark.parametrize(("key", "visible", "limitable"), [
    ({"user_id": "u_owner", "org_id": None}, True, True),       # own personal key
    ({"user_id": "u_owner", "org_id": "org_b"}, True, False),   # own key in an org where only a member
    ({"user_id": "u_other", "org_id": "org_a"}, True, True),    # a member's key of the org they own
    ({"user_id": "u_other", "org_id": "org_b"}, False, False),  # someone's key in an org they only belong to
    ({"user_id": "u_other", "org_id": None}, False, False),     # someone's personal key
    ({"user_id": None, "org_id": None}, False, False),          # an app key
])
def test_key_visibility_and_limits(key, visible, limitable):
    assert OWNER.can_see_key(key) is visible
    assert OWNER.can_limit_key(key) is limitable
    assert SYSTEM.can_see_key(key) and SYSTEM.can_limit_key(key)


def test_org_admin_checks_answer_404_to_outsiders_and_403_to_members():
    require_org_admin(OWNER, "org_a")
    with pytest.raises(PermissionDeniedError):
        require_org_admin(OWNER, "org_b")
    with pytest.raises(NotFoundError) as outsider:
        require_org_admin(OWNER, "org_c")
    assert outsider.value.param == "org_id" and outsider.value.code == "organization_not_found"
    assert OWNER.admin_org_ids == ("org_a",) and set(OWNER.member_org_ids) == {"org_a", "org_b"}
