"""The chat stage: pick the model (named or auto), call it with retries and fallbacks until the first byte,
relay the answer, account for it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, AsyncIterator

from gateway.errors import ErrorCategory, InternalError, UpstreamError
from gateway.pipeline.attempts import Want
from gateway.pipeline.catalog import require_vision
from gateway.pipeline.context import RequestContext
from gateway.pipeline.cost import CANCELLED_ESTIMATE, STREAM_ESTIMATE, estimate_tokens
from gateway.pipeline.endpoint import EndpointPipeline, Route
from gateway.pipeline.idle_timeout import IdleTimeout
from gateway.pipeline.router import chat_needs
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


@dataclass(slots=True)
class OpenedStream:
    """An upstream stream read up to its first content token: what was read is held in `head` until the
    attempt is known to have worked (nothing has reached the client yet)."""

    response: UpstreamResponse
    adapter: ChatAdapter
    state: StreamState
    upstream: AsyncIterator[bytes]
    decoder: SseDecoder = field(default_factory=SseDecoder)
    head: list[bytes] = field(default_factory=list)
    produced_chars: int = 0
    ended: bool = False


class ChatPipeline(EndpointPipeline):
    async def complete(self, ctx: RequestContext, body: dict[str, Any]) -> JsonResult | StreamResult:
        """Run a validated OpenAI chat request for an authenticated caller: the requested model or auto's
        pick, with retries and fallbacks (attempts.py) up to the first byte the client gets."""
        ctx.requested_model = body["model"]
        ctx.stream = bool(body.get("stream"))
        messages = body.get("messages")
        want = Want("chat", "chat", "chat", needs=lambda: chat_needs(body),
                    check=lambda target: require_vision(target, messages))

        def build(route: Route):
            return lambda endpoint: route.adapter.build_request(body, ctx.target.upstream_model, endpoint)

        if not ctx.stream:
            async def answer(route: Route) -> tuple[dict[str, Any], Usage | None]:
                response = await self.send(ctx, route, build(route))
                payload = await read_json(self._ports.clock, ctx, response)
                return route.adapter.parse_response(payload)

            result, ctx.usage = await self.attempt(ctx, want, answer)
            self.finish(ctx)
            return JsonResult(result)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        async def first_token(route: Route) -> OpenedStream:
            """One attempt: the answer's headers and its first token within FIRST_TOKEN_TIMEOUT_SECONDS."""
            seconds = self._policy.first_token_seconds
            try:
                async with asyncio.timeout(seconds):
                    response = await self.send(ctx, route, build(route), open_ended=True)
                    opened = OpenedStream(response, route.adapter, StreamState(include_usage=include_usage),
                                          response.iter_bytes().__aiter__())
                    await self._read_to_first_token(ctx, opened)
            except TimeoutError:
                provider_id = ctx.target.provider_id if ctx.target else "upstream"
                raise UpstreamError(ErrorCategory.TIMEOUT, f"{provider_id}: no first token within {seconds:g} s "
                                    "(FIRST_TOKEN_TIMEOUT_SECONDS)", provider=provider_id) from None
            return opened

        opened = await self.attempt(ctx, want, first_token)
        return StreamResult(self._relay(ctx, opened, body))

    async def _read_to_first_token(self, ctx: RequestContext, opened: OpenedStream) -> None:
        """Read until the first chunk with content (or a finish); any failure until then is the attempt's,
        classified, so the runner may retry or fall back before the client sees a byte."""
        provider_id = ctx.target.provider_id if ctx.target else "upstream"
        try:
            while not opened.produced_chars and opened.state.finish_reason is None and not opened.ended:
                out = await self._pull(ctx, opened)
                if out:
                    opened.head.append(out)
            if opened.ended and not opened.state.done and opened.state.finish_reason is None:
                raise UpstreamError(ErrorCategory.SERVER_ERROR, "the stream ended before its first token",
                                    code="upstream_unavailable")
        except BaseException as exc:
            opened.response.close()
            if isinstance(exc, UpstreamError):
                raise exc.attribute_to(provider_id)
            if isinstance(exc, (UpstreamConnectError, UpstreamTimeout)):
                raise transport_error(exc, provider_id) from exc
            raise

    async def _pull(self, ctx: RequestContext, opened: OpenedStream) -> bytes:
        """One upstream read, as the OpenAI chunks it makes (b"" when it made none); sets `ended`."""
        clock = self._ports.clock
        waited = clock.monotonic()
        try:
            events = opened.decoder.feed(await opened.upstream.__anext__())
        except StopAsyncIteration:
            opened.ended = True
            events = opened.decoder.flush()
        finally:
            ctx.upstream_seconds += clock.monotonic() - waited
        out = []  # one write per upstream read, however many events it carried
        for event in events:
            try:
                chunks = opened.adapter.transform_event(event, opened.state)
            except MalformedEvent as exc:
                ctx.malformed_events += 1
                log.warning("request %s: skipped a malformed upstream event: %.80s", ctx.request_id, exc)
                continue
            for chunk in chunks:
                opened.produced_chars += _content_chars(chunk)
                if ctx.ttft_seconds is None and opened.produced_chars:
                    ctx.ttft_seconds = clock.monotonic() - ctx.started
                out.append(encode_chunk(chunk))
        return b"".join(out)

    async def _relay(self, ctx: RequestContext, opened: OpenedStream, body: dict[str, Any]) -> AsyncIterator[bytes]:
        """The held head, then upstream SSE in, OpenAI chunks out. Nothing is retried once a byte has gone
        out; a break or a silence longer than STREAM_IDLE_TIMEOUT_SECONDS midway ends with an error event
        the OpenAI SDK raises, and the request is recorded as failed."""
        state = opened.state
        idle = IdleTimeout(self._policy.stream_idle_seconds)
        try:
            if opened.head:
                yield b"".join(opened.head)
                opened.head.clear()
            while not opened.ended:
                try:
                    out = await idle.wait(self._pull(ctx, opened))
                except TimeoutError:
                    raise UpstreamTimeout(f"the stream stalled for {self._policy.stream_idle_seconds:g} s "
                                          "(STREAM_IDLE_TIMEOUT_SECONDS)") from None
                if out:
                    yield out
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
            idle.close()
            opened.response.close()
            estimate = None
            if state.usage is None:  # the provider sent no usage: the documented estimator (cost.py)
                estimate = CANCELLED_ESTIMATE if ctx.status == "cancelled" else STREAM_ESTIMATE
            ctx.usage = state.usage or _estimate_usage(body, opened.produced_chars)
            self.finish(ctx, estimate=estimate)


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
