"""Signed webhook bodies (pipeline/webhook_signing.py): Stripe's scheme, checked against an independent
computation and a fixed vector; pure, so it runs in Pyodide too."""

from __future__ import annotations

import base64
import hashlib
import hmac

from gateway.pipeline.webhook_signing import new_secret, signature_header, verify

BODY = b'{"event": "fired", "alert": {"id": "alt_1"}}'


def test_a_secret_is_whsec_and_32_random_bytes_urlsafe():
    secret = new_secret(lambda n: bytes(range(n)))
    assert secret == "whsec_" + base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
    assert len(base64.urlsafe_b64decode(secret[6:] + "=")) == 32
    assert new_secret() != new_secret()


def test_the_header_is_t_and_v1_hmac_sha256_of_t_dot_body():
    header = signature_header("whsec_abc", 1_900_000_000, BODY)
    expected = hmac.new(b"whsec_abc", b"1900000000." + BODY, hashlib.sha256).hexdigest()
    assert header == f"t=1900000000,v1={expected}"
    # A fixed vector, computed outside Python: printf '1900000000.%s' "$BODY" | openssl dgst -sha256 -hmac whsec_abc
    assert header.endswith("v1=f731d1260414b5a95bde7955cfd58f7cacb205de182951680aa2a0c4ed0d6f83")


def test_verify_accepts_the_right_secret_in_time_and_refuses_the_rest():
    header = signature_header("whsec_abc", 1_900_000_000, BODY)
    assert verify("whsec_abc", header, BODY, now=1_900_000_100)
    assert not verify("whsec_abd", header, BODY, now=1_900_000_100)                # another secret
    assert not verify("whsec_abc", header, BODY + b" ", now=1_900_000_100)         # another body
    assert not verify("whsec_abc", header, BODY, now=1_900_000_301)                # a replay after 5 minutes
    assert not verify("whsec_abc", header.replace("t=1900000000", "t=1900000200"), BODY, now=1_900_000_200)
    assert not verify("whsec_abc", "v1=" + header.split("v1=")[1], BODY, now=1_900_000_000)  # no t
    # several v1 values (a receiver of Stripe's scheme accepts any matching one)
    assert verify("whsec_abc", header + ",v1=00ff", BODY, now=1_900_000_000)
