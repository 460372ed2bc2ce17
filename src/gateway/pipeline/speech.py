"""The text-to-speech stage: route (the model must be a `tts` model), resolve the key, call the
provider's speech adapter and relay its audio bytes as they arrive (never buffered whole).

A provider that answers a JSON document carrying the audio (Gemini, Workers AI's melotts) is read whole and
its adapter's `audio_from` makes the audio file of it (a WAV around Gemini's PCM, melotts' base64 decoded);
that answer goes out in one piece, its failures (a JSON error, a document without audio) as HTTP errors.

An upstream error status is classified before the client gets a byte (a plain HTTP error). The usage
row is written when the relay ends — finished, broken, or the client gone (`cancelled`): `units` is
`{"characters": N}` (N = characters of `input`) and the cost is N × the model's `tts_usd_per_mchar`
per million; billed when the client went away (the provider produced it), not when the provider broke off.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator

from gateway.errors import UpstreamError
from gateway.pipeline import accounting
from gateway.pipeline.attempts import Want
from gateway.pipeline.context import RequestContext
from gateway.pipeline.cost import speech_cost
from gateway.pipeline.endpoint import EndpointPipeline, Route
from gateway.pipeline.router import needs_for
from gateway.pipeline.upstream import read_body, transport_error
from gateway.ports import UpstreamConnectError, UpstreamResponse, UpstreamTimeout
from gateway.ports.ai_binding import BufferedResponse

log = logging.getLogger("gateway.speech")


@dataclass(slots=True)
class MediaStreamResult:
    """Raw bytes relayed to the client as they arrive, with their media type (not SSE)."""

    chunks: AsyncIterator[bytes]
    media_type: str


class SpeechPipeline(EndpointPipeline):
    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> MediaStreamResult:
        """Run a validated OpenAI speech request for an authenticated caller."""
        ctx.requested_model = body["model"]
        ctx.stream = True
        want = Want("tts", "speech", "text-to-speech", needs=lambda: needs_for("tts", body))

        async def speak(route: Route) -> tuple[UpstreamResponse, str]:
            """One attempt: the audio's response once it has answered 200 (a JSON answer already decoded)."""
            adapter, model = route.adapter, ctx.target.upstream_model
            media_type = adapter.content_type(body)
            response = await self.send(ctx, route, lambda endpoint: adapter.build_request(body, model, endpoint))
            audio_from = getattr(adapter, "audio_from", None)
            if audio_from is not None and _is_json(response.headers):
                try:
                    raw = await read_body(self._ports.clock, ctx, response)
                finally:
                    response.close()
                try:
                    audio = audio_from(raw, body)
                except UpstreamError as error:
                    raise error.attribute_to(ctx.target.provider_id) from None
                response = BufferedResponse(200, audio, {"content-type": media_type})
            return response, media_type

        response, media_type = await self.attempt(ctx, want, speak)
        return MediaStreamResult(self._relay(ctx, response, len(body["input"])), media_type)

    async def _relay(self, ctx: RequestContext, response: UpstreamResponse, characters: int) -> AsyncIterator[bytes]:
        """Upstream audio bytes out as they come. A break midway cannot be told inside an audio file:
        the error is recorded and raised, so the connection ends without a complete body."""
        clock = self._ports.clock
        upstream = response.iter_bytes().__aiter__()
        try:
            while True:
                waited = clock.monotonic()
                try:
                    chunk = await upstream.__anext__()
                except StopAsyncIteration:
                    break
                finally:
                    ctx.upstream_seconds += clock.monotonic() - waited
                if not chunk:
                    continue
                if ctx.ttft_seconds is None:
                    ctx.ttft_seconds = clock.monotonic() - ctx.started
                yield chunk
        except (UpstreamConnectError, UpstreamTimeout) as exc:
            provider_id = ctx.target.provider_id if ctx.target else "upstream"
            error = transport_error(exc, provider_id)
            ctx.status, ctx.http_status, ctx.error_type = "error", error.status, error.error_type
            log.warning("request %s: audio stream broke midway: %s", ctx.request_id, exc)
            raise
        except (asyncio.CancelledError, GeneratorExit):
            ctx.status = "cancelled"
            raise
        finally:
            response.close()
            self._finish_spoken(ctx, characters)

    def _finish_spoken(self, ctx: RequestContext, characters: int) -> None:
        """The row of a request whose audio was (at least partly) produced: billed per character."""
        row = accounting.usage_row(ctx, self._ports.clock.monotonic())
        entry = ctx.target.catalog_entry if ctx.target else None
        row["units"] = json.dumps({"characters": characters})
        if ctx.status != "error":  # broke midway: usage_row left it unbilled (only what succeeded is billed)
            accounting.charge(row, speech_cost(characters, entry), entry)
        self._record_row(row)


def _is_json(headers: Any) -> bool:
    return str(headers.get("content-type") or "").split(";")[0].strip().lower() == "application/json"
