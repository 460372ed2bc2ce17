"""POST /v1/audio/speech as a plain ASGI handler: the audio bytes are relayed with their media type as
the provider produces them."""

from __future__ import annotations

from typing import Any, Mapping

from gateway.api.asgi_io import Receive, Send
from gateway.api.hot_route import serve_openai_route
from gateway.api.schemas import SpeechRequest
from gateway.api.validation import parse_json_object, validate
from gateway.core import Gateway
from gateway.errors import GatewayError
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
        "401": {"description": "Missing or invalid gateway key"},
        "404": {"description": "Unknown model"},
        "429": {"description": "Rate limited upstream (Retry-After)"},
        "502": {"description": "Upstream unreachable or failing"},
        "504": {"description": "Upstream timeout"},
    },
}


async def handle_speech(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes | dict[str, Any]
) -> MediaStreamResult:
    """Authenticate, validate, run the speech pipeline. Errors are accounted, then raised."""
    try:
        await gateway.authenticate(ctx, headers)
        if isinstance(body, (bytes, bytearray)):
            body = parse_json_object(body, gateway.settings.max_body_bytes)
        validate(SpeechRequest, body)
        return await gateway.speech.create(ctx, body)
    except GatewayError as error:
        gateway.speech.fail(ctx, error)
        raise


async def create_speech(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    await serve_openai_route(gateway, scope, receive, send, "speech", handle_speech)
