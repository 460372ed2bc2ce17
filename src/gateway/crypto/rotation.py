"""Key rotation: reseal credentials still sealed by an older GATEWAY_ENCRYPTION_KEY key under the current
one, a bounded batch per run (the admin endpoint and the scheduled job both call `reseal_batch`).

A row whose key id is no longer in the keyring cannot be opened: it is counted as `unreadable` and left as
it is (put the old key back, reseal, then drop it). Each reseal is conditional on the row still being under
the key it was read with, so a concurrent write of a new key is never overwritten.
"""

from __future__ import annotations

import logging
from typing import Any

from gateway.crypto.keyring import Sealer, UnreadableCredential, aad_for
from gateway.ports import Clock, Database
from gateway.storage import credentials as credentials_sql
from gateway.timefmt import utc_text

log = logging.getLogger("gateway.credentials")


async def reseal_batch(db: Database, clock: Clock, sealer: Sealer, limit: int) -> dict[str, Any]:
    current = sealer.keyring.current_id   # raises EncryptionConfigError when the secret is unusable
    resealed = unreadable = 0
    for row in await credentials_sql.not_under(db, current, limit):
        aad = aad_for(row["id"], row["provider_id"], row["scope"], credentials_sql.owner_of(row))
        try:
            plain = await sealer.open(row["ciphertext"], row["encryption_key_id"], aad)
        except UnreadableCredential as exc:
            unreadable += 1
            log.error("provider credential %s cannot be resealed: %s", row["id"], exc)
            continue
        ciphertext, key_id = await sealer.seal(plain, aad)
        if await credentials_sql.reseal(db, row["id"], row["encryption_key_id"], ciphertext, key_id,
                                        utc_text(clock.now())):
            resealed += 1
    remaining = await credentials_sql.count_not_under(db, current)
    return {"current_key_id": current, "resealed": resealed, "unreadable": unreadable, "remaining": remaining}
