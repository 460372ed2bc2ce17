"""Routes of the OpenAI-compatible providers (DeepSeek, Groq, xAI, Perplexity, Together AI) on the
emulator: OpenAI's chat handling (`server.py` mechanics, `openai_wire` bodies, the same knobs and
faults) under each provider's real path, answered with its own extra fields (`compatible_wire`)."""

from __future__ import annotations

import time

from aiohttp import web

from scripts.emulator import compatible_wire, openai_wire as wire, stream_shape


# provider -> the path of its embeddings endpoint (OpenAI's embeddings handling and bodies, as they are)
EMBEDDINGS_PATHS = {"together": "/together/v1/embeddings"}


def register(router: web.UrlDispatcher) -> None:
    from scripts.emulator import server  # loaded by now: server.create_app calls this

    for provider, path in compatible_wire.CHAT_PATHS.items():
        router.add_post(path, _chat_handler(provider))
    for path in EMBEDDINGS_PATHS.values():
        router.add_post(path, server.embeddings)


def _chat_handler(provider: str):
    async def chat_completions(request: web.Request) -> web.StreamResponse:
        return await _chat(request, provider)

    chat_completions.__name__ = f"{provider}_chat_completions"
    return chat_completions


async def _chat(request: web.Request, provider: str) -> web.StreamResponse:
    from scripts.emulator import server  # server.py registers these routes: imported when first used

    start = await server._prelude(request, wire.chat_texts)
    if isinstance(start, web.StreamResponse):
        return start
    state, raw, body, texts, knobs = start
    model, messages = body.get("model"), body.get("messages")
    if not model or not isinstance(model, str):
        return server._json(state, 400, wire.missing_param("model"))
    if not isinstance(messages, list) or not messages:
        return server._json(state, 400, wire.missing_param("messages"))
    if provider == "groq" and "metadata" in body:  # Groq refuses OpenAI's metadata (its 400, as reported)
        return server._json(state, 400, {"error": {"message": "`metadata` is not supported with this model",
                                                   "type": "invalid_request_error", "param": "metadata"}})
    config = state.config
    await server._sleep(server._ms(knobs.latency_ms, config.latency_ms))
    if (answered := await server._fault(request, state, knobs, raw, model)) is not None:
        return answered
    reply = stream_shape.fit_to_chunks(wire.plan_reply(body, texts, knobs.fault), knobs.chunks)
    number, created = state.next_id(), int(time.time())
    cid, call_id = f"chatcmpl-emu-{number}", f"call_emu_{number}"
    slow = knobs.fault == "slow-first-token"
    slow_delay = server._ms(knobs.ttft_ms, config.slow_first_token_ms)
    if not body.get("stream"):
        await server._sleep(slow_delay if slow else 0)
        answer = wire.completion(cid, created, model, reply, call_id)
        return server._json(state, 200, compatible_wire.completion(provider, answer, body))
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and bool(options.get("include_usage"))
    events = wire.stream_events(cid, created, model, reply, call_id, True, knobs)
    events = compatible_wire.stream_events(provider, events, include_usage, body)
    first_delay = slow_delay if slow else server._ms(knobs.ttft_ms, config.ttft_ms)
    interval = server._ms(knobs.chunk_interval_ms, config.chunk_interval_ms)
    return await server._stream(request, state, events, first_delay, interval, cut=knobs.fault == "cut-stream",
                                stall=server.stall_seconds(knobs, config))
