"""The body of `POST /v1/videos`: JSON, or `multipart/form-data` as the OpenAI SDK sends it (always,
with or without a file). Form fields become the JSON fields they stand for; `name[key]` fields become
nested objects (`input_reference[image_url]`); an uploaded `input_reference` file becomes
`{"image_url": "data:<its type>;base64,…"}`, the form every video adapter reads."""

from __future__ import annotations

import base64
from typing import Any

from gateway.api.validation import parse_json_object
from gateway.errors import InvalidRequestError, PayloadTooLargeError

FILE_FIELDS = ("input_reference",)


def read_video_body(raw: bytes, content_type: str | None, max_bytes: int) -> dict[str, Any]:
    media_type, _, params = (content_type or "").partition(";")
    if media_type.strip().lower() != "multipart/form-data":
        return parse_json_object(raw, max_bytes)
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"The request body is larger than {max_bytes} bytes.")
    boundary = _param(params, "boundary")
    if not boundary:
        raise InvalidRequestError("A multipart body needs its boundary in the Content-Type header.",
                                  code="invalid_multipart")
    body: dict[str, Any] = {}
    for name, filename, part_type, data in _parts(raw, boundary.encode("latin-1")):
        if filename is not None:
            if name not in FILE_FIELDS:
                raise InvalidRequestError(f"Unexpected file field '{name}'.", param=name)
            mime = part_type or "application/octet-stream"
            body[name] = {"image_url": f"data:{mime};base64,{base64.b64encode(data).decode()}"}
            continue
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequestError(f"Form field '{name}' is not UTF-8 text.", param=name) from None
        outer, bracket, inner = name.partition("[")
        if bracket and inner.endswith("]"):
            nested = body.setdefault(outer, {})
            if isinstance(nested, dict):
                nested[inner[:-1]] = text
        else:
            body[name] = text
    return body


def _param(params: str, wanted: str) -> str | None:
    for item in params.split(";"):
        key, _, value = item.strip().partition("=")
        if key.strip().lower() == wanted:
            return value.strip().strip('"')
    return None


def _parts(raw: bytes, boundary: bytes):
    """(field name, filename or None, part content type or None, bytes) for each part."""
    delimiter = b"--" + boundary
    chunks = raw.split(delimiter)
    if len(chunks) < 3:
        raise InvalidRequestError("The multipart body has no parts.", code="invalid_multipart")
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise InvalidRequestError("A multipart part has no header end.", code="invalid_multipart")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        name = filename = part_type = None
        for line in head.decode("latin-1").split("\r\n"):
            key, _, value = line.partition(":")
            key = key.strip().lower()
            if key == "content-disposition":
                name, filename = _param(value, "name"), _param(value, "filename")
            elif key == "content-type":
                part_type = value.strip()
        if not name:
            raise InvalidRequestError("A multipart part has no field name.", code="invalid_multipart")
        yield name, filename, part_type, data
