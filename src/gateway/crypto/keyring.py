"""The keyring from the GATEWAY_ENCRYPTION_KEY secret, and the sealed format of a credential.

Secret format: `kid:base64(32 bytes)[,kid:base64(32 bytes)...]`. The first key seals; every key opens, so a
rotation puts the new key first, keeps the old one until every row is resealed, then drops it.
A key id is 1–32 of `A-Z a-z 0-9 _ . -`; it is stored with each row (`encryption_key_id`).

Sealed format (the `ciphertext` column): base64(nonce(12 random bytes) || AES-256-GCM ciphertext || tag(16)).
The additional authenticated data binds a ciphertext to its row (`aad_for`): copied into another row
(another id, provider, scope or owner) it no longer opens.

Errors never carry key material: a malformed secret is described by the entry's position only.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass
from typing import Callable

from gateway.errors import InternalError
from gateway.ports import Cipher, CipherError

NONCE_BYTES = 12
KEY_BYTES = 32
TAG_BYTES = 16
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
SETTING = "GATEWAY_ENCRYPTION_KEY"


class EncryptionConfigError(InternalError):
    """Credentials cannot be sealed or opened: the secret or the platform's cipher is missing or malformed.
    A 500: the operator's configuration, not the caller's request, is at fault."""

    code = "encryption_not_configured"


class UnreadableCredential(Exception):
    """A stored ciphertext that does not open: its key id is not in the keyring, or it does not verify."""


@dataclass(frozen=True, slots=True)
class Keyring:
    keys: tuple[tuple[str, bytes], ...]   # (key id, 32-byte key); the first one seals

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def key(self, key_id: str) -> bytes | None:
        for kid, key in self.keys:
            if kid == key_id:
                return key
        return None


def parse_keyring(raw: str | None) -> Keyring:
    if raw is None or not raw.strip():
        raise EncryptionConfigError(f"Provider credentials are unavailable: the {SETTING} secret is not set.")
    keys: list[tuple[str, bytes]] = []
    for position, entry in enumerate(raw.split(","), start=1):
        kid, sep, encoded = entry.strip().partition(":")
        key = _decode(encoded.strip()) if sep else None
        if not _KEY_ID.match(kid) or key is None or len(key) != KEY_BYTES:
            raise EncryptionConfigError(
                f"Provider credentials are unavailable: entry {position} of {SETTING} is not "
                f"'key_id:base64(32 bytes)'."
            )
        if any(existing == kid for existing, _ in keys):
            raise EncryptionConfigError(f"Provider credentials are unavailable: {SETTING} names key id '{kid}' twice.")
        keys.append((kid, key))
    return Keyring(tuple(keys))


def _decode(encoded: str) -> bytes | None:
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None


def aad_for(credential_id: str, provider_id: str, scope: str, owner_id: str | None) -> bytes:
    """What a ciphertext is bound to: its row's id, provider, scope and owner."""
    return f"gateway-credential:v1|{credential_id}|{provider_id}|{scope}|{owner_id or ''}".encode()


class Sealer:
    """Seal and open credential secrets with the keyring. The secret is parsed on first use, so a missing
    or malformed one refuses credential work only (env-level keys keep working)."""

    def __init__(self, cipher: Cipher | None, secret: str | None,
                 random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self._cipher = cipher
        self._secret = secret
        self._random = random_bytes
        self._keyring: Keyring | None = None

    @property
    def keyring(self) -> Keyring:
        if self._cipher is None:
            raise EncryptionConfigError("Provider credentials are unavailable: this platform has no cipher.")
        if self._keyring is None:
            self._keyring = parse_keyring(self._secret)
        return self._keyring

    @property
    def configured(self) -> bool:
        try:
            self.keyring
        except EncryptionConfigError:
            return False
        return True

    async def seal(self, plaintext: str, aad: bytes) -> tuple[str, str]:
        """(base64(nonce || ciphertext || tag), the key id that sealed it)."""
        keyring = self.keyring
        kid, key = keyring.keys[0]
        nonce = self._random(NONCE_BYTES)
        sealed = await self._cipher.seal(key, nonce, plaintext.encode(), aad)
        return base64.b64encode(nonce + sealed).decode("ascii"), kid

    async def open(self, stored: str, key_id: str, aad: bytes) -> str:
        key = self.keyring.key(key_id)
        if key is None:
            raise UnreadableCredential(f"key id '{key_id}' is not in {SETTING}")
        raw = _decode(stored)
        if raw is None or len(raw) < NONCE_BYTES + TAG_BYTES:
            raise UnreadableCredential("the stored ciphertext is not base64(nonce || ciphertext || tag)")
        try:
            plain = await self._cipher.open(key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
        except CipherError:
            raise UnreadableCredential("the ciphertext does not verify under its key and row") from None
        return plain.decode()
