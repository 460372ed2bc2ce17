"""The Worker's composition root: build the Cloudflare ports once per isolate and serve the app.

`fetch` goes through the runtime SDK's ASGI bridge; `scheduled` runs the job registry; the RPC
methods (`chat`, `embeddings`, `models`) serve sibling Workers over service bindings through the same handlers
as HTTP.
"""

from __future__ import annotations

from typing import Any

from workers import WorkerEntrypoint

import asgi
from gateway import jobs
from gateway.api.chat import handle_chat
from gateway.api.embeddings import handle_embeddings
from gateway.api.models import handle_models
from gateway.app import create_app
from gateway.errors import GatewayError
from gateway.pipeline.chat import StreamResult
from gateway.ports import Ports
from gateway.ports.cloudflare import (
    AiBinding,
    D1Database,
    EnvMapping,
    FetchClient,
    WaitUntilBackground,
    WebCryptoCipher,
    WorkersClock,
    sse_response,
)
from gateway.settings import Settings

_app = None


def _get_app(env: Any):
    global _app  # one app per isolate: caches (keys, catalog) live as long as the isolate
    if _app is None:
        ports = Ports(
            database=D1Database(env.DB),
            http=FetchClient(),
            background=WaitUntilBackground(),
            clock=WorkersClock(),
            ai=AiBinding(env.AI) if getattr(env, "AI", None) is not None else None,
            cipher=WebCryptoCipher(),
        )
        _app = create_app(ports, Settings.from_env(EnvMapping(env)))
    return _app


class Default(WorkerEntrypoint):
    async def fetch(self, request):
        return await asgi.fetch(_get_app(self.env), request.js_object, self.env)

    async def scheduled(self, controller, env=None, ctx=None):
        gateway = _get_app(self.env).gateway
        await jobs.run_all(gateway)

    async def chat(self, body: Any, api_key: str):
        """RPC: an OpenAI chat request from a sibling Worker. Answers the completion as a dict,
        an SSE `Response` when `body.stream` is true, or `{"error": {...}}`."""
        result = await _call(_get_app(self.env).gateway, "chat", handle_chat, body, api_key)
        if isinstance(result, StreamResult):
            return sse_response(result.chunks)
        return result if isinstance(result, dict) else result.payload

    async def embeddings(self, body: Any, api_key: str):
        """RPC: an OpenAI embeddings request from a sibling Worker. Answers the list as a dict, or
        `{"error": {...}, "status": N}`."""
        result = await _call(_get_app(self.env).gateway, "embeddings", handle_embeddings, body, api_key)
        return result if isinstance(result, dict) else result.payload

    async def models(self, api_key: str):
        """RPC: the model list, as GET /v1/models answers it."""
        gateway = _get_app(self.env).gateway
        try:
            return await handle_models(gateway, {"authorization": f"Bearer {api_key}"})
        except GatewayError as error:
            return {**error.envelope(), "status": error.status}


async def _call(gateway: Any, endpoint: str, handle: Any, body: Any, api_key: str) -> Any:
    """An RPC request through the same handler as its HTTP route: its result, or the error as
    `{"error": {...}, "status": N}` (an RPC caller gets no status line)."""
    ctx = gateway.new_context(endpoint)
    payload = body.to_py() if hasattr(body, "to_py") else dict(body)
    try:
        return await handle(gateway, ctx, {"authorization": f"Bearer {api_key}"}, payload)
    except GatewayError as error:
        return {**error.envelope(), "status": error.status}
