"""The sealed format of provider credentials: AES-256-GCM with the row bound in the AAD, the keyring parsed
from GATEWAY_ENCRYPTION_KEY, and one known-answer vector (the same one tests/cloudflare checks with
WebCrypto). On CPython the cipher is `cryptography`'s AESGCM; inside Pyodide it is the WebCrypto class."""

from __future__ import annotations

import asyncio
import base64
import sys

import pytest

from gateway.crypto.keyring import (
    EncryptionConfigError, Sealer, UnreadableCredential, aad_for, parse_keyring,
)
from gateway.ports import CipherError

# Known answer: AES-256-GCM, key 00..1f, nonce 64..6f, this plaintext and AAD → ciphertext || 16-byte tag.
KAT_KEY = bytes(range(32))
KAT_NONCE = bytes(range(100, 112))
KAT_PLAINTEXT = b"sk-known-answer-0123456789"
KAT_AAD = b"gateway-credential:v1|cred_kat|openai|user|usr_kat"
KAT_SEALED = bytes.fromhex(
    "3b70f30d178621f01303319bad0018d072f33439bf59c5459fe8839b6e0ba1e7614bcc24c24fc9d5d73a"
)

K1 = base64.b64encode(bytes([1]) * 32).decode()
K2 = base64.b64encode(bytes([2]) * 32).decode()


@pytest.fixture
def cipher():
    if sys.platform == "emscripten":
        from gateway.ports.cloudflare import WebCryptoCipher

        return WebCryptoCipher()
    from gateway.ports.local_crypto import AesGcmCipher

    return AesGcmCipher()


def test_known_answer_vector(cipher):
    assert asyncio.run(cipher.seal(KAT_KEY, KAT_NONCE, KAT_PLAINTEXT, KAT_AAD)) == KAT_SEALED
    assert asyncio.run(cipher.open(KAT_KEY, KAT_NONCE, KAT_SEALED, KAT_AAD)) == KAT_PLAINTEXT


def test_a_flipped_bit_or_another_aad_does_not_open(cipher):
    tampered = bytes([KAT_SEALED[0] ^ 1]) + KAT_SEALED[1:]
    with pytest.raises(CipherError):
        asyncio.run(cipher.open(KAT_KEY, KAT_NONCE, tampered, KAT_AAD))
    with pytest.raises(CipherError):
        asyncio.run(cipher.open(KAT_KEY, KAT_NONCE, KAT_SEALED, KAT_AAD + b"x"))


def test_sealed_format_is_base64_of_nonce_ciphertext_and_tag(cipher):
    sealer = Sealer(cipher, f"k1:{K1}", random_bytes=lambda n: KAT_NONCE)
    aad = aad_for("cred_1", "openai", "user", "usr_1")
    stored, key_id = asyncio.run(sealer.seal("sk-secret-value", aad))
    raw = base64.b64decode(stored)
    assert key_id == "k1" and raw[:12] == KAT_NONCE and len(raw) == 12 + len("sk-secret-value") + 16
    assert asyncio.run(sealer.open(stored, "k1", aad)) == "sk-secret-value"


def test_nonces_are_random_so_equal_keys_seal_differently(cipher):
    sealer = Sealer(cipher, f"k1:{K1}")
    aad = aad_for("cred_1", "openai", "system", None)
    first, second = (asyncio.run(sealer.seal("same", aad))[0] for _ in range(2))
    assert first != second


def test_a_ciphertext_moved_to_another_row_does_not_open(cipher):
    sealer = Sealer(cipher, f"k1:{K1}")
    stored, _ = asyncio.run(sealer.seal("sk-user-key", aad_for("cred_1", "openai", "user", "usr_a")))
    for other in (aad_for("cred_2", "openai", "user", "usr_a"), aad_for("cred_1", "groq", "user", "usr_a"),
                  aad_for("cred_1", "openai", "org", "usr_a"), aad_for("cred_1", "openai", "user", "usr_b")):
        with pytest.raises(UnreadableCredential):
            asyncio.run(sealer.open(stored, "k1", other))


def test_first_key_seals_and_every_key_opens(cipher):
    aad = aad_for("cred_1", "openai", "system", None)
    old_stored, old_id = asyncio.run(Sealer(cipher, f"k1:{K1}").seal("sk-old", aad))
    rotated = Sealer(cipher, f"k2:{K2},k1:{K1}")
    assert asyncio.run(rotated.open(old_stored, old_id, aad)) == "sk-old"
    assert asyncio.run(rotated.seal("sk-new", aad))[1] == "k2"
    with pytest.raises(UnreadableCredential, match="'k1' is not in GATEWAY_ENCRYPTION_KEY"):
        asyncio.run(Sealer(cipher, f"k2:{K2}").open(old_stored, old_id, aad))


@pytest.mark.parametrize("secret, says", [
    (None, "is not set"),
    ("", "is not set"),
    ("k1", "entry 1"),
    (f"k1:{K1},k2:c2hvcnQ=", "entry 2"),                # 5 bytes, not 32
    ("k1:not*base64*at*all", "entry 1"),
    (f"bad id:{K1}", "entry 1"),
    (f"k1:{K1},k1:{K2}", "names key id 'k1' twice"),
])
def test_a_bad_secret_is_a_config_error_that_never_echoes_it(secret, says):
    with pytest.raises(EncryptionConfigError) as raised:
        parse_keyring(secret)
    assert says in raised.value.message and raised.value.status == 500
    assert raised.value.code == "encryption_not_configured"
    for part in (secret or "").replace(",", ":").split(":"):
        if len(part) > 4:
            assert part not in raised.value.message


def test_no_cipher_on_the_platform_refuses_sealing():
    with pytest.raises(EncryptionConfigError, match="no cipher"):
        asyncio.run(Sealer(None, f"k1:{K1}").seal("sk", b""))
    assert not Sealer(None, f"k1:{K1}").configured


def test_keyring_order_and_lookup():
    keyring = parse_keyring(f" k2:{K2} , k1:{K1} ")
    assert keyring.current_id == "k2" and keyring.key("k1") == bytes([1]) * 32 and keyring.key("k0") is None
