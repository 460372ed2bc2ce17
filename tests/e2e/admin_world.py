"""Tenants built through the admin API for the tests of who may see and change what (alerts, fallback
chains): two orgs and four people, each with a gateway key of their own, and helpers to call as them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from tests.conftest import GatewayServer


@dataclass(frozen=True)
class TwoOrgs:
    org_a: str
    org_b: str
    alice: str       # owner of A (her key)
    bob: str         # member of A
    carol: str       # owner of B
    dave: str        # in no org
    bob_id: str      # user ids, for keys made on top
    carol_id: str


def ok(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json() if response.content else {}


def as_key(server: GatewayServer, key: str) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers={"authorization": f"Bearer {key}"}, timeout=10)


def two_orgs(server: GatewayServer) -> TwoOrgs:
    """Org A (alice owner, bob member), org B (carol owner) and dave in no org, with fresh names."""
    tag = uuid.uuid4().hex[:8]
    with server.admin() as system:
        def person(name: str) -> tuple[str, str]:
            user_id = ok(system.post("/admin/users", json={"email": f"{name}-{tag}@example.com"}), 201)["id"]
            return user_id, ok(system.post("/admin/keys", json={"user_id": user_id}), 201)["key"]

        def org(name: str) -> str:
            return ok(system.post("/admin/orgs", json={"name": name, "slug": f"{name}-{tag}"}), 201)["id"]

        (alice_id, alice), (bob_id, bob), (carol_id, carol), (_, dave) = map(person, ("alice", "bob", "carol", "dave"))
        org_a, org_b = org("a"), org("b")
        for org_id, user_id, role in ((org_a, alice_id, "owner"), (org_a, bob_id, "member"), (org_b, carol_id, "owner")):
            ok(system.put(f"/admin/orgs/{org_id}/members/{user_id}", json={"role": role}))
    return TwoOrgs(org_a, org_b, alice, bob, carol, dave, bob_id, carol_id)
