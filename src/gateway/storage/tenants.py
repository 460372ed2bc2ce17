"""Organizations, users and memberships: the SQL the admin API and its access checks read."""

from __future__ import annotations

from gateway.ports import Database


async def principal_facts(db: Database, user_id: str) -> tuple[bool, dict[str, str]] | None:
    """(is the user a system admin, {org id: role}) in one statement; None for an unknown user."""
    result = await db.query(
        "SELECT u.is_system_admin, m.org_id, m.role FROM users u "
        "LEFT JOIN memberships m ON m.user_id = u.id WHERE u.id = ?",
        (user_id,),
    )
    if not result.rows:
        return None
    roles = {row["org_id"]: row["role"] for row in result.rows if row["org_id"] is not None}
    return bool(result.rows[0]["is_system_admin"]), roles
