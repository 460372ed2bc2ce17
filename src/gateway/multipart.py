"""multipart/form-data in (the client's upload) and out (to providers that take an upload).

Parsing uses `python-multipart` (Starlette's own parser): pure Python, so it runs under Pyodide, and it
finds boundaries with `bytes.find` instead of splitting binary audio into lines — the stdlib `email`
parser took about 1.3 s of CPU for a 25 MB upload on this machine, which a Worker's CPU budget cannot
spare. The body has already been read (and capped) by the route; this only splits it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from gateway.errors import InvalidRequestError

MALFORMED = "invalid_multipart"  # the error code of a body that is not well-formed multipart/form-data


@dataclass(frozen=True, slots=True)
class FilePart:
    filename: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class Form:
    """Text fields (a name may repeat: `timestamp_granularities[]`) and file parts, in order."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, FilePart] = field(default_factory=dict)

    def value(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[-1] if values else None


def boundary_of(content_type: str | None) -> bytes:
    """The boundary of a multipart/form-data content type; 400 for anything else."""
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data":
        raise InvalidRequestError(
            "This endpoint takes a multipart/form-data upload (fields `file` and `model`); "
            f"got content type {content_type or 'none'!r}.",
        )
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidRequestError("The multipart/form-data content type has no boundary.", code=MALFORMED)
    return boundary


def parse_form(content_type: str | None, body: bytes) -> Form:
    """Split a multipart/form-data body into fields and files; 400 when it is not well formed."""
    boundary = boundary_of(content_type)
    form = Form()
    current: dict = {}

    def on_part_begin() -> None:
        current.clear()
        current.update(headers={}, data=[], field=b"", value=b"")

    def on_header_field(data: bytes, start: int, end: int) -> None:
        current["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        current["value"] += data[start:end]

    def on_header_end() -> None:
        current["headers"][current["field"].lower()] = current["value"]
        current["field"], current["value"] = b"", b""

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current["data"].append(data[start:end])

    def on_part_end() -> None:
        disposition, params = parse_options_header(current["headers"].get(b"content-disposition", b""))
        name = params.get(b"name")
        if disposition != b"form-data" or name is None:
            raise MultipartParseError("a part without a form-data name")
        key = name.decode("utf-8", "replace")
        data = b"".join(current["data"])
        filename = params.get(b"filename")
        if filename is not None:
            content = current["headers"].get(b"content-type", b"application/octet-stream")
            form.files[key] = FilePart(filename.decode("utf-8", "replace"), content.decode("latin-1").strip(), data)
        else:
            form.fields.setdefault(key, []).append(data.decode("utf-8", "replace"))

    ended: list[bool] = []
    callbacks = {
        "on_end": lambda: ended.append(True), "on_part_begin": on_part_begin, "on_header_field": on_header_field, "on_header_value": on_header_value,
        "on_header_end": on_header_end, "on_part_data": on_part_data, "on_part_end": on_part_end,
    }
    parser = MultipartParser(boundary, callbacks)
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError as exc:
        raise InvalidRequestError(f"The multipart/form-data body is malformed: {exc}", code=MALFORMED) from None
    if not ended:
        raise InvalidRequestError("The multipart/form-data body is malformed: its closing boundary is missing.",
                                  code=MALFORMED)
    return form


def encode_form(fields: list[tuple[str, str]], files: list[tuple[str, FilePart]]) -> tuple[str, bytes]:
    """(content type, body) of a multipart/form-data upload. The boundary is derived from the content
    (not random), so a transform stays a pure function, and is checked not to occur in it."""
    seed = hashlib.sha256()
    for _, part in files:
        seed.update(part.data[:65536])
    for name, value in fields:
        seed.update(f"{name}={value}".encode())
    boundary = "gateway-" + seed.hexdigest()[:32]
    marker = boundary.encode()
    while any(marker in part.data for _, part in files) or any(boundary in value for _, value in fields):
        boundary += "x"
        marker = boundary.encode()
    chunks: list[bytes] = []
    for name, value in fields:
        chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"\r\n\r\n'.encode())
        chunks.append(value.encode() + b"\r\n")
    for name, part in files:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(name)}"; filename="{_quoted(part.filename)}"\r\n'
            f"Content-Type: {part.content_type}\r\n\r\n".encode()
        )
        chunks.append(part.data)
        chunks.append(b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(chunks)


def _quoted(value: str) -> str:
    """A name or filename inside a quoted header parameter (as browsers escape them)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")
