"""POST /v1/audio/speech as a plain ASGI handler: the audio bytes are relayed with their media type as
the provider produces them."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.api.asgi_io import Receive, Send
from gateway.api.hot_route import ROUTED_ERROR_RESPONSES, run_json_request, serve_openai_route
from gateway.api.schemas import SpeechRequest
from gateway.core import Gateway
from gateway.pipeline.context import RequestContext
from gateway.pipeline.speech import MediaStreamResult

# For the OpenAPI document (the route itself bypasses FastAPI; see app.py).
OPENAPI_OPERATION = {
    "tags": ["OpenAI-compatible"],
    "summary": "Text to speech (OpenAI format; OpenAI, ElevenLabs, Workers AI, Gemini)",
    "operationId": "create_speech",
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": SpeechRequest.model_json_schema()}},
    },
    "responses": {
        "200": {"description": "The audio file, streamed as it is generated (audio/mpeg, audio/wav, …)",
                "content": {"audio/mpeg": {"schema": {"type": "string", "format": "binary"}}}},
        "400": {"description": "Invalid request, or a model that is not a text-to-speech model (error.param names it)"},
        **ROUTED_ERROR_RESPONSES,
    },
}


async def handle_speech(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes | dict[str, Any]
) -> MediaStreamResult:
    """Authenticate, validate, run the speech pipeline. Errors are accounted, then raised."""
    pipeline = gateway.speech
    return await run_json_request(gateway, ctx, headers, body, SpeechRequest, pipeline, pipeline.create)


async def create_speech(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await serve_openai_route(gateway, scope, receive, send, "speech", handle_speech)
