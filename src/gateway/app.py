"""The composition root: `create_app(ports, settings)` builds the one ASGI app both runtimes serve."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from gateway.api import admin, chat, errors, health, models
from gateway.core import Gateway
from gateway.ports import Ports
from gateway.settings import Settings

GATEWAY_HEADERS = [
    "x-request-id", "x-gateway-provider", "x-gateway-model", "x-gateway-overhead-ms", "x-gateway-key-level",
    "retry-after",
]


class StartTimer:
    """Stamps when the request reached the app, so overhead includes routing and body reading."""

    def __init__(self, app: Callable[..., Awaitable[Any]], clock) -> None:
        self.app = app
        self.clock = clock

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            scope["gateway.started"] = self.clock.monotonic()
        await self.app(scope, receive, send)


def create_app(ports: Ports, settings: Settings) -> FastAPI:
    app = FastAPI(
        title="AI Gateway",
        version="0.1.0",
        description="One OpenAI-compatible front door for every AI provider.",
    )
    app.state.gateway = Gateway(ports, settings)
    for module in (chat, models, health, admin):
        app.include_router(module.router)
    errors.install(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.cors_allow_origins),
        allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
        allow_headers=list(settings.cors_allow_headers),
        expose_headers=GATEWAY_HEADERS,
        max_age=600,
    )
    app.add_middleware(StartTimer, clock=ports.clock)
    return app
