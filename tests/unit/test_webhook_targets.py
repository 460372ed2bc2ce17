"""Where a webhook may point and how its URL is shown (pipeline/webhook_targets.py, docs/alerts.md
"Webhook targets"); pure, so it runs in Pyodide too."""

from __future__ import annotations

import pytest

from gateway.pipeline.webhook_targets import RefusedTarget, TargetPolicy, check_target, masked_url, scrub

STRICT = TargetPolicy()

PUBLIC = (
    "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
    "https://example.com:8443/alerts?team=ops",
    "https://8.8.8.8/hook",
    "https://[2001:4860:4860::8888]/hook",
    "https://hooks.test./a",
)


@pytest.mark.parametrize("url", PUBLIC)
def test_public_https_targets_are_accepted(url):
    check_target(url, STRICT)


@pytest.mark.parametrize("url, why", [
    ("http://example.com/hook", "https"),
    ("ftp://example.com/hook", "scheme"),
    ("https:///no-host", "host"),
    ("https://user:pass@example.com/hook", "credentials"),
    ("https://token@example.com/hook", "credentials"),
    ("https://example.com:99999/hook", "valid URL"),
    ("https://localhost/hook", "loopback"),
    ("https://LOCALHOST./hook", "loopback"),
    ("https://admin.localhost/hook", "loopback"),
    ("https://127.0.0.1/hook", "public"),
    ("https://127.1/hook", "public"),                  # short IPv4 forms: the resolver reads 127.0.0.1
    ("https://2130706433/hook", "public"),
    ("https://0x7f.0.0.1/hook", "public"),
    ("https://0177.0.0.1/hook", "public"),            # octal
    ("https://0.0.0.0/hook", "public"),
    ("https://10.1.2.3/hook", "public"),
    ("https://172.16.0.1/hook", "public"),
    ("https://192.168.1.1/hook", "public"),
    ("https://100.64.0.1/hook", "public"),            # shared address space (carrier NAT)
    ("https://169.254.169.254/latest/meta-data", "public"),  # cloud metadata (link-local)
    ("https://224.0.0.1/hook", "public"),             # multicast
    ("https://240.0.0.1/hook", "public"),             # reserved
    ("https://[::1]/hook", "public"),
    ("https://[::]/hook", "public"),
    ("https://[::ffff:127.0.0.1]/hook", "public"),    # IPv4-mapped loopback
    ("https://[::ffff:a9fe:a9fe]/hook", "public"),    # IPv4-mapped 169.254.169.254
    ("https://[fe80::1]/hook", "public"),
    ("https://[fc00::1]/hook", "public"),             # unique local
    ("https://[ff02::1]/hook", "public"),             # multicast
    ("https://[2002:7f00:1::]/hook", "public"),       # 6to4 of 127.0.0.1
    ("https://1.2.3.4.5/hook", "IPv4"),
    ("https://example.123/hook", "IPv4"),
])
def test_refused_targets_say_why(url, why):
    with pytest.raises(RefusedTarget, match=why):
        check_target(url, STRICT)


def test_the_settings_open_http_and_private_addresses_but_never_credentials():
    check_target("http://example.com/hook", TargetPolicy(allow_http=True))
    with pytest.raises(RefusedTarget, match="public"):
        check_target("http://127.0.0.1:8080/hook", TargetPolicy(allow_http=True))
    with pytest.raises(RefusedTarget, match="https"):
        check_target("http://127.0.0.1:8080/hook", TargetPolicy(allow_private=True))
    both = TargetPolicy(allow_http=True, allow_private=True)
    check_target("http://127.0.0.1:8080/hook", both)
    check_target("https://localhost/hook", both)
    with pytest.raises(RefusedTarget, match="credentials"):
        check_target("http://user:pw@127.0.0.1/hook", both)


@pytest.mark.parametrize("url, shown", [
    ("https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXa1b2", "https://hooks.slack.com/…a1b2"),
    ("https://example.com:8443/alerts/ops-team-hook?token=s3cret", "https://example.com:8443/…hook"),
    ("https://example.com/short", "https://example.com/…"),   # under 12 characters: no tail
    ("HTTPS://[2001:db8::1]/a-long-path-here", "https://[2001:db8::1]/…here"),
    ("not a url:99999", "…"),
])
def test_the_masked_url_keeps_scheme_host_port_and_a_short_tail(url, shown):
    assert masked_url(url) == shown
    assert "s3cret" not in masked_url(url) and "XXXX" not in masked_url(url)


def test_scrub_takes_the_url_and_its_secret_parts_out_of_an_error_text():
    url = "https://hooks.slack.com/services/T0AAAA/B0BBBB/tokentokentoken?sig=abcdefgh"
    text = (f"InvalidURL: {url} (path /services/T0AAAA/B0BBBB/tokentokentoken, segment tokentokentoken, "
            "query sig=abcdefgh) to host hooks.slack.com")
    cleaned = scrub(text, url)
    for secret in ("tokentokentoken", "T0AAAA", "B0BBBB", "abcdefgh"):
        assert secret not in cleaned
    assert cleaned.startswith("InvalidURL: …") and "hooks.slack.com" in cleaned
