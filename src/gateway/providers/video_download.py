"""Where a video file named in a provider's answer may be fetched from, and with what.

xAI and Together AI answer a finished job with a public URL (xAI: a temporary file on its `vidgen.x.ai`
CDN; Together: a short link on `api.together.ai` that redirects to a signed file URL). Both document the
URL as downloadable as it is, so the gateway fetches it with NO credentials at all — the provider key is
never sent with a download, whatever the host. The URL must still be on the configured base URL's host
or under one of the provider's own domains (`trusted_domains`), with the base URL's scheme or https:
an answer cannot steer the gateway's network position anywhere else. Anything else is refused (502
`untrusted_download_host`) and not fetched."""

from __future__ import annotations

from urllib.parse import urlsplit

from gateway.errors import ErrorCategory, UpstreamError
from gateway.providers.base import UpstreamRequest


def trusted(url: str, base_url: str, trusted_domains: tuple[str, ...]) -> bool:
    target, base = urlsplit(url), urlsplit(base_url)
    host = (target.hostname or "").lower()
    if not host or target.scheme not in ("https", base.scheme) or target.scheme not in ("http", "https"):
        return False
    if host == (base.hostname or "").lower():
        return True
    return any(host == domain or host.endswith("." + domain) for domain in trusted_domains)


def public_file_request(url: object, base_url: str, trusted_domains: tuple[str, ...], provider: str) -> UpstreamRequest:
    """A keyless GET of the file, or the 502 that refuses it."""
    if not isinstance(url, str) or not trusted(url, base_url, trusted_domains):
        raise UpstreamError(ErrorCategory.SERVER_ERROR, f"the video's URL is not on a {provider} host; it is not "
                            "fetched", code="untrusted_download_host", provider=provider)
    return UpstreamRequest("GET", url, {}, None)
