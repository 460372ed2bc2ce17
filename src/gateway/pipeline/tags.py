"""Attribution tags of a request (docs/cost.md, "Tags"): the `x-gateway-tags` header and the body's metadata.

- Header: `key=value` pairs separated by commas (`app=checkout, feature=summary, end_user=u_42`),
  whitespace around each part trimmed, values percent-decoded (a value may hold a comma as `%2C`).
- Body: OpenAI chat's `metadata` (a map of strings) as it is; Anthropic /v1/messages' `metadata.user_id`
  as the tag `end_user`. The header wins on the same key.
- Limits, OpenAI's for `metadata` applied to the merged tags: at most 16 keys, a key at most 64
  characters of letters, digits and `_ - . :`, a value at most 512 characters.
A bad tag is the caller's 400 (`param` names the header or `metadata`), raised before anything is sent.
A request without either pays one header lookup and one dict lookup.
"""

from __future__ import annotations

import re
from typing import Any, Mapping
from urllib.parse import unquote

from gateway.errors import InvalidRequestError

HEADER = "x-gateway-tags"
MAX_TAGS = 16
MAX_KEY_CHARS = 64
MAX_VALUE_CHARS = 512
_KEY = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


class InvalidTags(InvalidRequestError):
    """A tag the gateway refuses: the request is answered 400 and not recorded (docs/cost.md)."""


def from_header(raw: str | None) -> dict[str, str]:
    """The header's tags (empty when it is absent or blank). Repeating a key is an error, not a merge."""
    if raw is None or not raw.strip():
        return {}
    tags: dict[str, str] = {}
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue  # `a=1, b=2,` and `a=1,,b=2`: empty items are separators, not tags
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep:
            raise InvalidTags(f"Invalid tag {part[:80]!r} in {HEADER}: tags are key=value pairs separated by commas.",
                              param=HEADER, code="invalid_tags")
        if key in tags:
            raise InvalidTags(f"The tag key {key!r} is given twice in {HEADER}.", param=HEADER, code="invalid_tags")
        tags[key] = _decoded(value.strip())
    return tags


def _decoded(value: str) -> str:
    if "%" not in value:
        return value
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise InvalidTags(f"A tag value in {HEADER} is not percent-encoded UTF-8.", param=HEADER,
                          code="invalid_tags") from None


def from_openai_metadata(metadata: Any) -> dict[str, str]:
    """OpenAI chat's `metadata`: an object of string values (None or absent: no tags)."""
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidTags("Invalid type for 'metadata': expected an object of string values.",
                          param="metadata", code="invalid_type")
    for key, value in metadata.items():
        if not isinstance(value, str):
            raise InvalidTags(f"Invalid type for 'metadata.{key}': expected a string.", param="metadata",
                              code="invalid_type")
    return metadata


def from_anthropic_metadata(metadata: Any) -> dict[str, str]:
    """Anthropic's `metadata.user_id` → `end_user` (the only field Anthropic defines)."""
    if isinstance(metadata, dict) and isinstance(metadata.get("user_id"), str) and metadata["user_id"]:
        return {"end_user": metadata["user_id"]}
    return {}


def request_tags(headers: Mapping[str, str], body_tags: Mapping[str, str] | None = None) -> dict[str, str]:
    """The request's tags: the body's, overridden by the header's on the same key; checked against the limits
    (a problem the header has alone is the header's; one the merge makes, `metadata`'s)."""
    header = from_header(headers.get(HEADER))
    if header:
        check(header, HEADER)
    if not body_tags:
        return header
    merged = {**body_tags, **header}
    check(merged, "metadata")
    return merged


def check(tags: Mapping[str, str], param: str) -> None:
    if len(tags) > MAX_TAGS:
        raise InvalidTags(f"Too many tags: {len(tags)} given, at most {MAX_TAGS} (header and metadata together).",
                          param=param, code="invalid_tags")
    for key, value in tags.items():
        if not _KEY.fullmatch(key):
            raise InvalidTags(f"Invalid tag key {key[:80]!r}: 1 to {MAX_KEY_CHARS} letters, digits or _ - . :",
                              param=param, code="invalid_tags")
        if len(value) > MAX_VALUE_CHARS:
            raise InvalidTags(f"The value of tag {key!r} is {len(value)} characters long; at most {MAX_VALUE_CHARS}.",
                              param=param, code="invalid_tags")
