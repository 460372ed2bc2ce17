"""POST /v1/audio/transcriptions as a plain ASGI handler: a multipart/form-data upload (OpenAI's
fields) in, the transcript out in the `response_format` asked for (JSON or text/plain)."""

from __future__ import annotations

from typing import Any, AsyncIterator, Mapping

from gateway.api.asgi_io import Receive, Send
from gateway.api.hot_route import ROUTED_ERROR_RESPONSES, serve_openai_route
from gateway.core import Gateway
from gateway.errors import GatewayError
from gateway.multipart import parse_form
from gateway.pipeline import tags
from gateway.pipeline.chat import JsonResult
from gateway.pipeline.context import RequestContext
from gateway.pipeline.speech import MediaStreamResult
from gateway.transcription.request import GRANULARITIES, RESPONSE_FORMATS, transcription_request

# Room for the text fields beside the largest accepted file.
FORM_OVERHEAD_BYTES = 1024 * 1024

# For the OpenAPI document (the route itself bypasses FastAPI; see app.py).
OPENAPI_OPERATION = {
    "tags": ["OpenAI-compatible"],
    "summary": "Transcribe audio (OpenAI format; OpenAI, Groq, ElevenLabs, Gemini, Workers AI)",
    "operationId": "create_transcription",
    "requestBody": {
        "required": True,
        "content": {"multipart/form-data": {"schema": {
            "type": "object",
            "required": ["file", "model"],
            "properties": {
                "file": {"type": "string", "format": "binary",
                         "description": "The audio file (flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav, webm); at most 25 MB"},
                "model": {"type": "string", "description": "A speech-to-text model, e.g. openai/whisper-1"},
                "language": {"type": "string", "description": "The input language (ISO-639-1, e.g. en)"},
                "prompt": {"type": "string", "description": "Text to guide the model's style or continue a previous segment"},
                "response_format": {"type": "string", "enum": list(RESPONSE_FORMATS), "default": "json"},
                "temperature": {"type": "number", "minimum": 0, "maximum": 1},
                "timestamp_granularities[]": {"type": "array", "items": {"type": "string", "enum": list(GRANULARITIES)}},
            },
        }}},
    },
    "responses": {
        "200": {"description": "The transcript: JSON ({text} or verbose_json) or text/plain (text, srt, vtt)",
                "content": {"application/json": {"schema": {"type": "object"}},
                            "text/plain": {"schema": {"type": "string"}}}},
        "400": {"description": "Not a multipart upload, a malformed one, a missing/empty `file`, a missing `model`, "
                               "an unknown response_format, or a model that is not a speech-to-text model (error.param names it)"},
        **ROUTED_ERROR_RESPONSES,
        "413": {"description": "The upload is larger than MAX_UPLOAD_BYTES (25 MB)"},
    },
}


async def _once(body: bytes) -> AsyncIterator[bytes]:
    yield body


async def handle_transcription(
    gateway: Gateway, ctx: RequestContext, headers: Mapping[str, str], body: bytes
) -> JsonResult | MediaStreamResult:
    """Authenticate, parse and validate the upload, run the transcription pipeline. Errors are
    accounted (a complete error row for an authenticated caller), then raised."""
    try:
        await gateway.authenticate(ctx, headers)
        ctx.tags = tags.request_tags(headers)
        form = parse_form(headers.get("content-type"), body)
        request = transcription_request(form, gateway.settings.max_upload_bytes)
        result = await gateway.transcription.create(ctx, request)
    except GatewayError as error:
        if not isinstance(error, tags.InvalidTags):  # refused before anything ran: nothing to record
            gateway.transcription.fail(ctx, error)
        raise
    if isinstance(result.body, dict):
        return JsonResult(result.body)
    return MediaStreamResult(_once(result.body.encode()), result.media_type)


async def create_transcription(gateway: Gateway, scope: dict[str, Any], receive: Receive, send: Send) -> None:
    limit = gateway.settings.max_upload_bytes + FORM_OVERHEAD_BYTES
    await serve_openai_route(gateway, scope, receive, send, "transcription", handle_transcription, body_limit=limit)
