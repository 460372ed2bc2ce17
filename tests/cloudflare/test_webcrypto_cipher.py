"""The Worker's Cipher (WebCrypto `crypto.subtle` AES-GCM) against the known-answer vector that
tests/unit/test_keyring.py checks with `cryptography` on CPython: the two ports seal the same bytes."""

from __future__ import annotations

import asyncio
import base64

import pytest

from gateway.crypto.keyring import Sealer, UnreadableCredential, aad_for
from gateway.ports import CipherError
from gateway.ports.cloudflare import WebCryptoCipher

KAT_KEY = bytes(range(32))
KAT_NONCE = bytes(range(100, 112))
KAT_PLAINTEXT = b"sk-known-answer-0123456789"
KAT_AAD = b"gateway-credential:v1|cred_kat|openai|user|usr_kat"
KAT_SEALED = bytes.fromhex(
    "3b70f30d178621f01303319bad0018d072f33439bf59c5459fe8839b6e0ba1e7614bcc24c24fc9d5d73a"
)


def test_webcrypto_seals_the_known_answer():
    cipher = WebCryptoCipher()
    assert asyncio.run(cipher.seal(KAT_KEY, KAT_NONCE, KAT_PLAINTEXT, KAT_AAD)) == KAT_SEALED
    assert asyncio.run(cipher.open(KAT_KEY, KAT_NONCE, KAT_SEALED, KAT_AAD)) == KAT_PLAINTEXT


def test_webcrypto_refuses_a_tampered_ciphertext_or_another_aad():
    cipher = WebCryptoCipher()
    with pytest.raises(CipherError):
        asyncio.run(cipher.open(KAT_KEY, KAT_NONCE, KAT_SEALED[:-1] + bytes([KAT_SEALED[-1] ^ 1]), KAT_AAD))
    with pytest.raises(CipherError):
        asyncio.run(cipher.open(KAT_KEY, KAT_NONCE, KAT_SEALED, b"another row"))


def test_the_sealer_round_trips_over_webcrypto_and_binds_the_row():
    secret = "k1:" + base64.b64encode(bytes([7]) * 32).decode()
    sealer = Sealer(WebCryptoCipher(), secret)
    aad = aad_for("cred_1", "openai", "org", "org_a")
    stored, key_id = asyncio.run(sealer.seal("sk-worker-side-key", aad))
    assert key_id == "k1" and asyncio.run(sealer.open(stored, key_id, aad)) == "sk-worker-side-key"
    with pytest.raises(UnreadableCredential):
        asyncio.run(sealer.open(stored, key_id, aad_for("cred_1", "openai", "org", "org_b")))
