"""Where a webhook may point (docs/alerts.md "Webhook targets"), and how its URL is shown.

A webhook URL is checked when it is written and again before each delivery (a row stored before the check
existed, or a setting changed since). Refused: a scheme other than https (http only with
ALERT_WEBHOOK_ALLOW_HTTP), credentials in the URL, and — unless ALERT_WEBHOOK_ALLOW_PRIVATE — a host that is
`localhost` / `*.localhost` or an IP literal that is not a public unicast address (private, loopback,
link-local such as 169.254.169.254, multicast, reserved, unspecified, shared 100.64/10, an IPv4-mapped IPv6
of any of those). IPv4 is read the way URL parsers and the resolver read it (`127.1`, `0x7f.0.0.1`,
`2130706433` are all 127.0.0.1), so a spelled-differently loopback address is refused too.
Hostnames are not resolved: the Worker cannot resolve DNS before `fetch` (and Cloudflare's fetch does not
reach private networks); a public name that resolves to a private address is the local runner's exposure.

Pure (stdlib `ipaddress`, `urllib.parse`): runs in the Worker and under Pyodide's tests.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

MASK = "…"
TAIL_CHARS = 4          # the masked URL shows this many trailing characters of the path
MIN_PATH_FOR_TAIL = 12  # a shorter path shows none (4 of 8 characters would be half the secret)


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_http: bool = False
    allow_private: bool = False


class RefusedTarget(ValueError):
    """Why a URL may not be a webhook target; the text never repeats the URL's path or query."""


def check_target(url: str, policy: TargetPolicy) -> None:
    """Raise RefusedTarget when `url` is not an allowed webhook target."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # validates the port (ValueError on a non-number or out of range)
    except ValueError:
        raise RefusedTarget("not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise RefusedTarget("the scheme must be https" + (" or http" if policy.allow_http else ""))
    if scheme == "http" and not policy.allow_http:
        raise RefusedTarget("the scheme must be https (http is allowed only with ALERT_WEBHOOK_ALLOW_HTTP)")
    if "@" in parts.netloc or parts.username is not None or parts.password is not None:
        raise RefusedTarget("credentials in the URL are not allowed")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RefusedTarget("the URL needs a host")
    if any(ch.isspace() for ch in url.strip()) or port == 0:
        raise RefusedTarget("not a valid URL")
    if policy.allow_private:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise RefusedTarget(f"host '{host}' is a loopback name")
    address = ip_literal(host)
    if address is not None and not public_address(address):
        raise RefusedTarget(f"host '{host}' is not a public address (private, loopback, link-local, multicast "
                            "or reserved)")


def ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address a host names when it is an IP literal (IPv6 without brackets, as urlsplit answers it; IPv4
    in any form the WHATWG URL parser accepts); None for a domain name. A host whose last label is numeric
    but is no valid IPv4 raises RefusedTarget (URL parsers refuse it too)."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise RefusedTarget(f"host '{host}' is not a valid IPv6 address") from None
    labels = host.split(".")
    if not _numeric(labels[-1]):
        return None
    numbers = [_number(label) for label in labels]
    if None in numbers or len(numbers) > 4:
        raise RefusedTarget(f"host '{host}' is not a valid IPv4 address")
    *leading, last = numbers
    if any(n > 255 for n in leading) or last >= 256 ** (5 - len(numbers)):
        raise RefusedTarget(f"host '{host}' is not a valid IPv4 address")
    value = last
    for index, n in enumerate(leading):
        value += n * 256 ** (3 - index)
    return ipaddress.IPv4Address(value)


def _numeric(label: str) -> bool:
    return label.isdigit() or (label[:2].lower() == "0x" and all(c in "0123456789abcdefABCDEF" for c in label[2:]))


def _number(label: str) -> int | None:
    """One IPv4 part: decimal, 0x hexadecimal, or 0-prefixed octal (as inet_aton and the URL standard read it)."""
    try:
        if label[:2].lower() == "0x":
            return int(label[2:] or "0", 16)
        if len(label) > 1 and label.startswith("0"):
            return int(label, 8)
        return int(label, 10) if label else None
    except ValueError:
        return None


def public_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            return public_address(embedded)
    return address.is_global and not (address.is_multicast or address.is_private or address.is_loopback
                                      or address.is_link_local or address.is_reserved or address.is_unspecified)


def masked_url(url: str) -> str:
    """What an answer shows of a webhook URL: scheme, host and port, and the path's last 4 characters when the
    path is long enough — never the path's secrets, never the query. `https://hooks.slack.com/…Xa1b`."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return MASK
    host = parts.hostname or ""
    if not host or not parts.scheme:
        return MASK
    if ":" in host:
        host = f"[{host}]"
    shown = f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")
    path = parts.path
    tail = path[-TAIL_CHARS:] if len(path) >= MIN_PATH_FOR_TAIL else ""
    return f"{shown}/{MASK}{tail}"


def scrub(text: str, url: str) -> str:
    """`text` (an exception's message) without the URL or any of its path segments and query: what is left
    may be recorded or logged."""
    parts = urlsplit(url)
    pieces = [url, url.strip(), parts.path, parts.query, parts.fragment,
              *parts.path.split("/"), *parts.query.split("&")]
    for piece in sorted({p for p in pieces if len(p) >= 4}, key=len, reverse=True):
        text = text.replace(piece, MASK)
    return text
