"""Signed webhook bodies (docs/alerts.md "Verifying a delivery"), after Stripe's documented scheme.

Each webhook has a signing secret, `whsec_` + 32 random bytes (urlsafe base64, no padding). Every delivery
carries `x-gateway-signature: t=<unix seconds>,v1=<hex HMAC-SHA256(key=secret, msg="<t>.<raw body>")>`; the
key is the whole secret string (prefix included), as Stripe's libraries use theirs. A receiver recomputes it
over the raw body, compares in constant time, and refuses a `t` too far from its clock (Stripe's default
tolerance: 300 s) against replays.

Pure (stdlib hmac/hashlib/secrets): runs in the Worker and under Pyodide's tests.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Callable

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32
SIGNATURE_HEADER = "x-gateway-signature"
DELIVERY_HEADER = "x-gateway-delivery"
EVENT_HEADER = "x-gateway-event"
DEFAULT_TOLERANCE_SECONDS = 300


def new_secret(random_bytes: Callable[[int], bytes] = os.urandom) -> str:
    return SECRET_PREFIX + base64.urlsafe_b64encode(random_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(int(timestamp)).encode("ascii") + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    return f"t={int(timestamp)},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, now: float,
           tolerance: float = DEFAULT_TOLERANCE_SECONDS) -> bool:
    """What a receiver does (the snippet in docs/alerts.md is this function): parse `t` and every `v1`,
    check the timestamp is within `tolerance` of `now`, and compare the expected signature in constant time."""
    timestamp, candidates = None, []
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
