"""Cloudflare Workers AI wire format (`POST /accounts/{account}/ai/run/{model}`): bodies, SSE events and
error envelopes, as pure functions (no I/O).

The reply and token rules are openai_wire's, applied to the `messages` of the inputs (text parts of a
vision message joined with a space; image parts count nothing):
- answer: `{"result": {"response": <reply>, "tool_calls": [], "usage": {prompt_tokens, completion_tokens,
  total_tokens}}, "success": true, "errors": [], "messages": []}`; with `tools` and "weather" in the last
  user text the result has `tool_calls: [{"name": <first tool>, "arguments": {"location": "Paris"}}]` and
  `response: null`. `max_tokens` = N keeps the first N words (Workers AI reports no finish reason).
- a stream: `data: {"response": "<word>", "p": "…"}` per word (later words with their leading space),
  then `data: {"response": "", "usage": {…}}`, then `data: [DONE]`; a tool call is one event with
  `tool_calls` before the usage event.
- embeddings (`@cf/baai/bge-*`, inputs `{text}`): `{"result": {"shape": [n, 8], "data": [openai_wire's
  embedding_vector of each text, as floats], "pooling": <inputs.pooling or "mean">}, "success": true, …}`
  (the same vector the OpenAI and Gemini routes answer for the same text and 8 dimensions); no usage.
- speech: audio_wire's Aura and MeloTTS rules.
- errors: `{"result": null, "success": false, "errors": [{"code", "message"}], "messages": []}`.
"""

from __future__ import annotations

import base64
import json
import struct

from scripts.emulator import audio_wire, openai_wire, stream_shape
from scripts.emulator.knobs import Knobs
from scripts.emulator.openai_wire import Reply, encode, plan_reply  # noqa: F401 (encode: routes use it)

TOOL_ARGS = json.loads(openai_wire.TOOL_ARGUMENTS)
SSE_DONE = b"data: [DONE]\n\n"
SSE_MALFORMED = b'data: {"response": broken\n\n'


def sse(obj: object) -> bytes:
    return b"data: " + encode(obj) + b"\n\n"


def chat_texts(body: dict) -> list[str]:
    return openai_wire.chat_texts(body)


def task_of(model: str) -> str:
    """The model's Workers AI task, as the emulator serves it: chat, embeddings, aura or melotts."""
    if model.startswith("@cf/baai/bge-"):
        return "embeddings"
    if model.startswith("@cf/deepgram/aura-"):
        return "aura"
    if model.endswith("/melotts"):
        return "melotts"
    return "chat"


def _texts(value: object) -> list[str] | None:
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def input_problem(task: str, body: dict) -> str | None:
    """Cloudflare's input validation message for inputs its schema refuses; None when they are fine."""
    if task == "embeddings":
        return None if _texts(body.get("text")) else "Error: required properties at '/' are 'text'"
    if task == "aura":
        if not isinstance(body.get("text"), str) or not body["text"]:
            return "Error: required properties at '/' are 'text'"
        if body.get("encoding", "mp3") not in audio_wire.AURA_ENCODINGS:
            return f"Value at '/encoding' must be one of {sorted(audio_wire.AURA_ENCODINGS)}"
        return None
    if task == "melotts":
        return None if isinstance(body.get("prompt"), str) and body["prompt"] else \
            "Error: required properties at '/' are 'prompt'"
    messages = body.get("messages")
    return None if isinstance(messages, list) and messages else "Error: required properties at '/' are 'messages'"


def input_texts(task: str, body: dict) -> list[str]:
    """The texts of the inputs, where markers are looked for."""
    if task == "embeddings":
        return _texts(body.get("text")) or []
    if task == "aura":
        return [body["text"]]
    if task == "melotts":
        return [body["prompt"]]
    return chat_texts(body)


def embeddings_result(body: dict) -> dict:
    dims = openai_wire.EMBEDDING_DIMS
    data = [list(struct.unpack(f"<{dims}f", openai_wire.embedding_vector(text, dims))) for text in _texts(body["text"])]
    return envelope({"shape": [len(data), dims], "data": data, "pooling": body.get("pooling") or "mean"})


def melotts_result(body: dict) -> dict:
    return {"audio": base64.b64encode(audio_wire.melotts_audio(body)).decode()}


def plan(body: dict, fault: str | None) -> Reply:
    return plan_reply(body, chat_texts(body), fault)


def usage(reply: Reply) -> dict:
    return {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens}


def envelope(result: object) -> dict:
    return {"result": result, "success": True, "errors": [], "messages": []}


def run_result(reply: Reply) -> dict:
    if reply.tool_name:
        return envelope({"response": None, "tool_calls": [{"name": reply.tool_name, "arguments": TOOL_ARGS}],
                         "usage": usage(reply)})
    return envelope({"response": reply.content, "tool_calls": [], "usage": usage(reply)})


def stream_events(reply: Reply, knobs: Knobs) -> list[bytes]:
    if reply.tool_name:
        events = [sse({"response": "", "tool_calls": [{"name": reply.tool_name, "arguments": TOOL_ARGS}]})]
    else:
        events = [sse({"response": w if i == 0 else " " + w, "p": "abcdefgh"[: i % 8]})
                  for i, w in enumerate(reply.words)]
    fault = knobs.fault
    if fault == "cut-stream":  # the server closes the connection after these: no usage, no [DONE]
        return events[: stream_shape.cut_count(knobs, max(len(events) - 1, 0))]
    if fault == "malformed-chunk":
        events.insert(len(events) // 2, SSE_MALFORMED)
    return [*stream_shape.with_stall(events, knobs), sse({"response": "", "usage": usage(reply)}), SSE_DONE]


# ---- errors ---------------------------------------------------------------------------------------


def error(code: int, message: str) -> dict:
    return {"result": None, "success": False, "errors": [{"code": code, "message": message}], "messages": []}


def authentication_error() -> dict:
    return error(10000, "Authentication error")


def server_error() -> dict:
    return error(5000, "Internal server error")


def bad_input(message: str) -> dict:
    return error(5006, message)


def fault_error(fault: str, model: str) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) of a fault answered with a Cloudflare error; None for other faults."""
    if fault in ("429", "429-no-retry-after"):
        return 429, error(3040, "Capacity temporarily exceeded, please try again."), {}
    if fault == "401":
        return 401, authentication_error(), {}
    if fault == "503":
        return 503, error(3043, "Service temporarily unavailable."), {}
    if fault == "context-length":
        return 400, error(5021, "The estimated number of input and maximum output tokens (200000) exceeded this "
                                "model context window limit (24000)."), {}
    if fault == "model-not-found":
        return 400, error(5007, f"No such model {model} or task"), {}
    return None
