"""The composition root: `create_app(ports, settings)` builds the one ASGI app both runtimes serve.

The hot OpenAI routes are plain ASGI handlers in front of FastAPI (measured: FastAPI's stack costs
more than the rest of the gateway's own work per request); FastAPI serves everything else — admin,
/v1/models, /health, the OpenAPI document — and CORS wraps both.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from gateway.api import (
    admin, chat, embeddings, errors, health, images, messages, models, speech, transcriptions, videos,
)
from gateway.api import admin_credentials, admin_neurons
from gateway.api.asgi_io import send_json
from gateway.core import Gateway
from gateway.errors import MethodNotAllowedError
from gateway.ports import Ports
from gateway.settings import Settings

GATEWAY_HEADERS = [
    "x-request-id", "x-gateway-provider", "x-gateway-model", "x-gateway-overhead-ms", "x-gateway-key-level",
    "retry-after", "request-id",  # request-id: the Anthropic SDK's name for it (/v1/messages)
    "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset",  # daily request limits (docs/limits.md)
]

HotHandler = Callable[[Gateway, dict, Any, Any], Awaitable[None]]
# path -> method -> (handler, OpenAPI operation)
HOT_ROUTES: dict[str, dict[str, tuple[HotHandler, dict[str, Any]]]] = {
    "/v1/chat/completions": {"POST": (chat.chat_completions, chat.OPENAPI_OPERATION)},
    "/v1/embeddings": {"POST": (embeddings.create_embeddings, embeddings.OPENAPI_OPERATION)},
    "/v1/messages": {"POST": (messages.messages, messages.OPENAPI_OPERATION)},
    "/v1/audio/speech": {"POST": (speech.create_speech, speech.OPENAPI_OPERATION)},
    "/v1/images/generations": {"POST": (images.create_images, images.OPENAPI_OPERATION)},
    "/v1/audio/transcriptions": {"POST": (transcriptions.create_transcription, transcriptions.OPENAPI_OPERATION)},
}


class GatewayApp:
    """The ASGI app: `gateway` is the wired core, for the Worker's RPC methods and scheduled jobs."""

    def __init__(self, gateway: Gateway, api: FastAPI, settings: Settings) -> None:
        self.gateway = gateway
        self.api = api
        self._asgi = CORSMiddleware(
            self._dispatch,
            allow_origins=list(settings.cors_allow_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=list(settings.cors_allow_headers),
            expose_headers=GATEWAY_HEADERS,
            max_age=600,
        )

    async def __call__(self, scope, receive, send) -> None:
        await self._asgi(scope, receive, send)

    async def _dispatch(self, scope, receive, send) -> None:
        if scope["type"] == "http" and (methods := HOT_ROUTES.get(scope["path"])) is not None:
            route = methods.get(scope["method"])
            if route is None:
                error = MethodNotAllowedError(f"Method {scope['method']} is not allowed on {scope['path']}.")
                await send_json(send, error.status, error.envelope(), {"allow": ", ".join(methods)})
                return
            await route[0](self.gateway, scope, receive, send)
            return
        await self.api(scope, receive, send)


def create_app(ports: Ports, settings: Settings) -> GatewayApp:
    api = FastAPI(
        title="AI Gateway",
        version="0.1.0",
        description="One OpenAI-compatible front door for every AI provider.",
    )
    gateway = Gateway(ports, settings)
    api.state.gateway = gateway
    for module in (models, health, admin, admin_credentials, admin_neurons, videos):
        api.include_router(module.router)
    errors.install(api)
    _document_hot_routes(api)
    return GatewayApp(gateway, api, settings)


def _document_hot_routes(api: FastAPI) -> None:
    """Put the plain-ASGI routes into FastAPI's OpenAPI document."""
    build_schema = api.openapi

    def openapi() -> dict[str, Any]:
        if api.openapi_schema is None:
            schema = build_schema()
            for path, methods in HOT_ROUTES.items():
                for method, (_, operation) in methods.items():
                    schema.setdefault("paths", {}).setdefault(path, {})[method.lower()] = operation
            api.openapi_schema = schema
        return api.openapi_schema

    api.openapi = openapi  # type: ignore[method-assign]
