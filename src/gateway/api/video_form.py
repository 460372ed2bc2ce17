"""The body of `POST /v1/videos`: JSON, or `multipart/form-data` as the OpenAI SDK sends it (always,
with or without a file; parsed by `gateway.multipart`). Form fields become the JSON fields they stand for;
`name[key]` fields become nested objects (`input_reference[image_url]`); an uploaded `input_reference`
file becomes `{"image_url": "data:<its type>;base64,…"}`, the form every video adapter reads."""

from __future__ import annotations

import base64
from typing import Any

from gateway.api.validation import parse_json_object
from gateway.errors import InvalidRequestError, PayloadTooLargeError
from gateway.multipart import parse_form

FILE_FIELDS = ("input_reference",)


def read_video_body(raw: bytes, content_type: str | None, max_bytes: int) -> dict[str, Any]:
    media_type = (content_type or "").partition(";")[0].strip().lower()
    if media_type != "multipart/form-data":
        return parse_json_object(raw, max_bytes)
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"The request body is larger than {max_bytes} bytes.")
    form = parse_form(content_type, raw)
    body: dict[str, Any] = {}
    for name, values in form.fields.items():
        outer, bracket, inner = name.partition("[")
        if bracket and inner.endswith("]"):
            nested = body.setdefault(outer, {})
            if isinstance(nested, dict):
                nested[inner[:-1]] = values[-1]
        else:
            body[name] = values[-1]
    for name, part in form.files.items():
        if name not in FILE_FIELDS:
            raise InvalidRequestError(f"Unexpected file field '{name}'.", param=name)
        encoded = base64.b64encode(part.data).decode()
        body[name] = {"image_url": f"data:{part.content_type or 'application/octet-stream'};base64,{encoded}"}
    return body
