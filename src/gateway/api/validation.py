"""Request bodies: JSON parsing and pydantic validation, failing as OpenAI does (400, field named)."""

from __future__ import annotations

import json
import math
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gateway.errors import InvalidRequestError, PayloadTooLargeError
from gateway.pipeline.router import max_cost_of

M = TypeVar("M", bound=BaseModel)


def parse_json_object(raw: bytes, max_bytes: int) -> dict[str, Any]:
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"The request body is larger than {max_bytes} bytes.")
    if not raw.strip():
        raise InvalidRequestError("The request body is empty; send a JSON object.", code="invalid_json")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            f"We could not parse the JSON body of your request: {exc}.", code="invalid_json"
        ) from exc
    if not isinstance(body, dict):
        raise InvalidRequestError("The request body must be a JSON object.", code="invalid_json")
    return body


def validate(model: type[M], body: dict[str, Any]) -> M:
    """Validate and return the model; the first problem is reported with its field path."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        param = field_path(first.get("loc", ()))
        kind = first.get("type")
        if kind == "missing":
            message = f"Missing required parameter: '{param}'."
            code = "missing_required_parameter"
        else:
            message = f"Invalid value for '{param}': {first.get('msg')}."
            code = "invalid_value"
        raise InvalidRequestError(message, param=param or None, code=code) from None


def field_path(loc: tuple[Any, ...]) -> str:
    """('messages', 0, 'role') -> 'messages[0].role', as OpenAI names parameters. Pydantic's
    union-branch labels ('str', 'list[...]', 'function-after[...]') are not fields and are dropped."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in part or part in ("str", "int", "float", "bool", "list", "dict"):
            continue
        else:
            path += f".{part}" if path else part
    return path



MAX_COST_HEADER = "x-gateway-max-cost"
MAX_COST_FIELD = "max_cost"


def max_cost(headers: Any, body: Any = None) -> float | None:
    """The request's ceiling on its expected cost (USD; auto routing skips models expected to cost more):
    the body's `max_cost` and the `x-gateway-max-cost` header, the lower if both are given. The body field
    is taken out of the body: it is the gateway's own, and providers refuse fields they do not know."""
    ceilings = []
    if isinstance(body, dict) and MAX_COST_FIELD in body:
        value = body.pop(MAX_COST_FIELD)
        if value is not None:  # a JSON number: a numeric string is refused here (only the header is text)
            ceilings.append(max_cost_of(math.nan if isinstance(value, str) else value, MAX_COST_FIELD))
    raw = headers.get(MAX_COST_HEADER)
    if raw is not None and raw.strip():
        ceilings.append(max_cost_of(raw, MAX_COST_HEADER))
    return min(ceilings) if ceilings else None
