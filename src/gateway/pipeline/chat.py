"""The chat stage: route, resolve the key, call the adapter, relay the answer, account for it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, AsyncIterator

from gateway.errors import InternalError, UpstreamError
from gateway.pipeline.catalog import require_vision
from gateway.pipeline.context import RequestContext
from gateway.pipeline.cost import estimate_tokens
from gateway.pipeline.endpoint import EndpointPipeline
from gateway.pipeline.upstream import read_json, transport_error
from gateway.ports import UpstreamConnectError, UpstreamResponse, UpstreamTimeout
from gateway.providers.base import ChatAdapter, MalformedEvent, StreamState
from gateway.sse import DONE, SseDecoder, encode_chunk
from gateway.usage import Usage

log = logging.getLogger("gateway.chat")


@dataclass(slots=True)
class JsonResult:
    payload: dict[str, Any]


@dataclass(slots=True)
class StreamResult:
    chunks: AsyncIterator[bytes]


class ChatPipeline(EndpointPipeline):
    async def complete(self, ctx: RequestContext, body: dict[str, Any]) -> JsonResult | StreamResult:
        """Run a validated OpenAI chat request for an authenticated caller."""
        ctx.requested_model = body["model"]
        ctx.stream = bool(body.get("stream"))
        route = await self.route(ctx, modality="chat", capability="chat", label="chat")
        require_vision(ctx.target, body.get("messages"))
        adapter = route.adapter
        model = ctx.target.upstream_model
        response = await self.send(ctx, route, lambda endpoint: adapter.build_request(body, model, endpoint))
        if not ctx.stream:
            payload = await read_json(self._ports.clock, ctx, response)
            answer, ctx.usage = adapter.parse_response(payload)
            self.finish(ctx)
            return JsonResult(answer)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return StreamResult(self._relay(ctx, adapter, response, StreamState(include_usage=include_usage), body))

    async def _relay(
        self,
        ctx: RequestContext,
        adapter: ChatAdapter,
        response: UpstreamResponse,
        state: StreamState,
        body: dict[str, Any],
    ) -> AsyncIterator[bytes]:
        """Upstream SSE in, OpenAI chunks out. Nothing is retried once a byte has gone out; a break
        midway ends with an error event the OpenAI SDK raises."""
        clock = self._ports.clock
        decoder = SseDecoder()
        upstream = response.iter_bytes().__aiter__()
        produced_chars = 0
        try:
            ended = False
            while not ended:
                waited = clock.monotonic()
                try:
                    events = decoder.feed(await upstream.__anext__())
                except StopAsyncIteration:
                    ended = True
                    events = decoder.flush()
                finally:
                    ctx.upstream_seconds += clock.monotonic() - waited
                out = []  # one write per upstream read, however many events it carried
                for event in events:
                    try:
                        chunks = adapter.transform_event(event, state)
                    except MalformedEvent as exc:
                        ctx.malformed_events += 1
                        log.warning("request %s: skipped a malformed upstream event: %.80s", ctx.request_id, exc)
                        continue
                    for chunk in chunks:
                        produced_chars += _content_chars(chunk)
                        if ctx.ttft_seconds is None and produced_chars:
                            ctx.ttft_seconds = clock.monotonic() - ctx.started
                        out.append(encode_chunk(chunk))
                if out:
                    yield b"".join(out)
            if not state.done and state.finish_reason is None:
                raise UpstreamConnectError("the stream ended before the answer was complete")
            yield DONE
        except (UpstreamError, UpstreamConnectError, UpstreamTimeout) as exc:
            provider_id = ctx.target.provider_id if ctx.target else "upstream"
            error = exc.attribute_to(provider_id) if isinstance(exc, UpstreamError) else transport_error(exc, provider_id)
            ctx.status, ctx.http_status, ctx.error_type = "error", error.status, error.error_type
            yield encode_chunk(error.envelope())
        except (asyncio.CancelledError, GeneratorExit):
            ctx.status = "cancelled"  # the client went away: bill what was produced
            raise
        except Exception:
            log.exception("request %s: stream relay failed", ctx.request_id)
            error = InternalError("The gateway failed while relaying the stream.")
            ctx.status, ctx.http_status, ctx.error_type = "error", error.status, error.error_type
            yield encode_chunk(error.envelope())
        finally:
            response.close()
            estimated = state.usage is None
            ctx.usage = state.usage or _estimate_usage(body, produced_chars)
            self.finish(ctx, estimated=estimated)


def _content_chars(chunk: dict[str, Any]) -> int:
    total = 0
    for choice in chunk.get("choices") or ():
        delta = choice.get("delta") or {}
        content = delta.get("content")
        if content:
            total += len(content)
        for call in delta.get("tool_calls") or ():
            total += len((call.get("function") or {}).get("arguments") or "")
    return total


def _estimate_usage(body: dict[str, Any], produced_chars: int) -> Usage:
    prompt_chars = 0
    for message in body.get("messages") or ():
        content = message.get("content")
        if isinstance(content, str):
            prompt_chars += len(content)
        elif isinstance(content, list):
            prompt_chars += sum(len(part.get("text") or "") for part in content if isinstance(part, dict))
    return Usage(input_tokens=estimate_tokens(prompt_chars), output_tokens=estimate_tokens(produced_chars))
