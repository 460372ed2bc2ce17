"""The Cipher port on CPython: AES-256-GCM from the `cryptography` package (OpenSSL).

The Worker cannot load `cryptography` (a compiled wheel Pyodide does not ship); it uses WebCrypto
instead (ports/cloudflare.py WebCryptoCipher). Both produce the same bytes: tests check one vector in both.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gateway.ports import CipherError


class AesGcmCipher:
    async def seal(self, key: bytes, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
        return AESGCM(key).encrypt(nonce, plaintext, aad)

    async def open(self, key: bytes, nonce: bytes, sealed: bytes, aad: bytes) -> bytes:
        try:
            return AESGCM(key).decrypt(nonce, sealed, aad)
        except InvalidTag:
            raise CipherError("AES-GCM authentication failed") from None
