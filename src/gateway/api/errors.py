"""Exception handlers: whatever goes wrong, the client gets the OpenAI envelope and never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException

from gateway.api.responses import error_response
from gateway.api.validation import field_path
from gateway.errors import GatewayError, InternalError, InvalidRequestError, MethodNotAllowedError, NotFoundError

log = logging.getLogger("gateway.api")


def install(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def gateway_error(request: Request, exc: GatewayError):
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        loc = tuple(first.get("loc", ()))
        param = field_path(loc[1:] if loc and loc[0] in ("body", "query", "path", "header") else loc)
        if first.get("type") == "json_invalid":
            error = InvalidRequestError("We could not parse the JSON body of your request.", code="invalid_json")
        elif first.get("type") == "missing":
            error = InvalidRequestError(f"Missing required parameter: '{param}'.", param=param or None)
        else:
            error = InvalidRequestError(f"Invalid value for '{param}': {first.get('msg')}.", param=param or None)
        return error_response(error)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if exc.status_code == 404:
            error: GatewayError = NotFoundError(f"No route {request.method} {request.url.path}.", code="unknown_url")
        elif exc.status_code == 405:
            error = MethodNotAllowedError(f"Method {request.method} is not allowed on {request.url.path}.")
        else:
            error = GatewayError(str(exc.detail))
            error.status = exc.status_code
        return error_response(error, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(InternalError("The gateway hit an unexpected error; it has been logged."))
