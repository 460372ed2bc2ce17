"""Webhook URLs and signing secrets sealed with the GATEWAY_ENCRYPTION_KEY keyring (docs/alerts.md).

The same Sealer as provider credentials (crypto/keyring.py): AES-256-GCM, a random nonce per seal, the
first key seals, every key opens. The additional authenticated data binds each ciphertext to its webhook and
field (`gateway-webhook:v1|<id>|<org id>|url`), so a ciphertext copied into another row or swapped
between the two columns does not open.

`reseal_batch` is the scheduled job's step: it seals rows still in plain text (written before migration
0024) — generating their signing secret — and reseals rows under an older key id after a rotation.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from gateway.crypto.keyring import SETTING, EncryptionConfigError, Sealer, UnreadableCredential
from gateway.pipeline.webhook_signing import new_secret
from gateway.pipeline.webhook_targets import masked_url
from gateway.ports import Database
from gateway.storage import alerts as alerts_sql

log = logging.getLogger("gateway.alerts")


@dataclass(frozen=True, slots=True)
class OpenedWebhook:
    url: str
    secret: str | None   # None: a plain row not sealed yet (delivered unsigned)


def aad(webhook_id: str, org_id: str | None, field: str) -> bytes:
    return f"gateway-webhook:v1|{webhook_id}|{org_id or ''}|{field}".encode()


def require_configured(sealer: Sealer) -> None:
    """Writing a webhook needs the keyring: a 500 `encryption_not_configured`, as for credentials."""
    try:
        sealer.keyring
    except EncryptionConfigError:
        raise EncryptionConfigError(f"Webhooks cannot be stored: the {SETTING} secret is missing or malformed "
                                    "(docs/credentials.md).") from None


async def sealed_columns(sealer: Sealer, webhook_id: str, org_id: str | None, url: str,
                         secret: str) -> dict[str, Any]:
    """The columns of a sealed webhook: the URL and the secret encrypted, their key id, the URL's hint."""
    require_configured(sealer)
    url_ciphertext, key_id = await sealer.seal(url, aad(webhook_id, org_id, "url"))
    secret_ciphertext, _ = await sealer.seal(secret, aad(webhook_id, org_id, "signing_secret"))
    return {"url": "", "url_ciphertext": url_ciphertext, "secret_ciphertext": secret_ciphertext,
            "encryption_key_id": key_id, "url_hint": masked_url(url)}


async def open_webhook(sealer: Sealer, row: dict[str, Any]) -> OpenedWebhook:
    """The URL and secret of a webhook row (id, org_id, url, url_ciphertext, secret_ciphertext,
    encryption_key_id). Raises UnreadableCredential / EncryptionConfigError when a sealed row cannot open."""
    if not row["url_ciphertext"]:
        return OpenedWebhook(row["url"], None)
    key_id = row["encryption_key_id"]
    url = await sealer.open(row["url_ciphertext"], key_id, aad(row["id"], row["org_id"], "url"))
    secret = await sealer.open(row["secret_ciphertext"], key_id, aad(row["id"], row["org_id"], "signing_secret"))
    return OpenedWebhook(url, secret)


async def reseal_batch(db: Database, sealer: Sealer, limit: int) -> dict[str, Any]:
    """Seal up to `limit` plain rows and rows under an older key id with the current key."""
    current = sealer.keyring.current_id   # raises EncryptionConfigError when the secret is unusable
    sealed = resealed = unreadable = 0
    for row in await alerts_sql.webhooks_to_seal(db, current, limit):
        try:
            opened = await open_webhook(sealer, row)
        except UnreadableCredential as exc:
            unreadable += 1
            log.error("webhook %s cannot be resealed: %s", row["id"], exc)
            continue
        columns = await sealed_columns(sealer, row["id"], row["org_id"], opened.url,
                                       opened.secret or new_secret())
        if await alerts_sql.reseal_webhook(db, row["id"], row["encryption_key_id"], columns):
            if opened.secret is None:
                sealed += 1
            else:
                resealed += 1
    remaining = await alerts_sql.count_webhooks_to_seal(db, current)
    return {"current_key_id": current, "sealed": sealed, "resealed": resealed, "unreadable": unreadable,
            "remaining": remaining}
