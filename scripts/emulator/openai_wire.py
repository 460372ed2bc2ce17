"""OpenAI wire format: response bodies, stream chunks and error envelopes, as pure functions (no I/O).

Deterministic answers, so tests can compute the expected numbers themselves:

- text of a message: its `content` if a string; if a list of parts, the `text` of each part joined with a
  single space; otherwise "".
- reply: "Emulated reply to: " + the text of the last user message (markers removed, truncated to 200
  characters), split on whitespace into words; the content is the words joined by single spaces.
- prompt_tokens = sum over all messages of (whitespace-separated words in its text + 4).
- completion_tokens = number of words in the reply. `max_tokens` / `max_completion_tokens` = N keeps the
  first N words and finish_reason becomes "length" when that cut anything.
- stream: one word per content chunk; every chunk after the first word carries a leading space.
  The stream knobs (`chunks`, `cut-stream` + `cut_after`, `stall-mid-stream`) are knobs.py's rules.
- tool call: if the request has `tools` (and `tool_choice` is not "none") and the last user message
  contains "weather", the answer calls the first tool with arguments `{"location": "Paris"}`;
  completion_tokens = 1 + words in the arguments string (= 3); finish_reason "tool_calls".
- embeddings: prompt_tokens = words in each string input (or length of each token array).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import struct
from dataclasses import dataclass

from scripts.emulator import stream_shape
from scripts.emulator.knobs import Knobs, strip_markers

SYSTEM_FINGERPRINT = "fp_emulator"
REPLY_PREFIX = "Emulated reply to: "
TOOL_ARGUMENTS = json.dumps({"location": "Paris"})
EMBEDDING_DIMS = 8
MODELS = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "gpt-4.1", "o3-mini", "text-embedding-3-small")
_MODELS_CREATED = 1715367049


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


def encode(obj: object) -> bytes:
    """Compact JSON, as OpenAI sends it."""
    return _dumps(obj).encode()


def sse(obj: object) -> bytes:
    return b"data: " + encode(obj) + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"
SSE_MALFORMED = b'data: {"id": broken\n\n'


# ---- requests -------------------------------------------------------------------------------------


def message_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return ""


def chat_texts(body: dict) -> list[str]:
    """The text of every message, in order; where markers are looked for and prompt tokens counted."""
    messages = body.get("messages")
    if not isinstance(messages, list):
        return []
    return [message_text(m.get("content")) if isinstance(m, dict) else "" for m in messages]


def embedding_texts(body: dict) -> list[str]:
    value = body.get("input")
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


@dataclass(slots=True)
class Reply:
    """What the emulated model answers; chosen from the request only, so it is reproducible."""

    words: list[str]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    tool_name: str | None = None

    @property
    def content(self) -> str | None:
        return None if self.tool_name else " ".join(self.words)


def plan_reply(body: dict, texts: list[str], fault: str | None) -> Reply:
    messages = body["messages"]
    prompt_tokens = sum(len(t.split()) + 4 for t in texts)
    last_user = next(
        (t for m, t in zip(reversed(messages), reversed(texts)) if isinstance(m, dict) and m.get("role") == "user"),
        "",
    )
    if fault == "content-filter-finish":
        return Reply([], "content_filter", prompt_tokens, 0)
    tools = body.get("tools")
    if tools and body.get("tool_choice") != "none" and "weather" in last_user.lower():
        name = (tools[0].get("function") or {}).get("name", "tool") if isinstance(tools[0], dict) else "tool"
        return Reply([], "tool_calls", prompt_tokens, 1 + len(TOOL_ARGUMENTS.split()), tool_name=name)
    words = (REPLY_PREFIX + strip_markers(last_user)[:200]).split()
    finish = "stop"
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(limit, int) and 0 < limit < len(words):
        words, finish = words[:limit], "length"
    return Reply(words, finish, prompt_tokens, len(words))


# ---- chat completions -----------------------------------------------------------------------------


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion(cid: str, created: int, model: str, reply: Reply, call_id: str) -> dict:
    message: dict = {"role": "assistant", "content": reply.content, "refusal": None, "annotations": []}
    if reply.tool_name:
        message["tool_calls"] = [
            {"id": call_id, "type": "function", "function": {"name": reply.tool_name, "arguments": TOOL_ARGUMENTS}}
        ]
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}],
        "usage": usage(reply.prompt_tokens, reply.completion_tokens),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def stream_events(
    cid: str, created: int, model: str, reply: Reply, call_id: str, include_usage: bool, knobs: Knobs
) -> list[bytes]:
    """The SSE events of one streamed answer, already encoded; stream faults shape the list here."""
    head = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
    head |= {"service_tier": "default", "system_fingerprint": SYSTEM_FINGERPRINT}
    tail = {"usage": None} if include_usage else {}

    def chunk(delta: dict, finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return sse({**head, "choices": [choice], **tail})

    if reply.tool_name:
        # As OpenAI does: the first delta names the call, then the arguments arrive in fragments.
        first = {"index": 0, "id": call_id, "type": "function", "function": {"name": reply.tool_name, "arguments": ""}}
        events = [chunk({"role": "assistant", "content": None, "tool_calls": [first], "refusal": None})]
        pieces = [TOOL_ARGUMENTS[i : i + 6] for i in range(0, len(TOOL_ARGUMENTS), 6)]
        deltas = [{"tool_calls": [{"index": 0, "function": {"arguments": p}}]} for p in pieces]
    else:
        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        deltas = [{"content": w if i == 0 else " " + w} for i, w in enumerate(reply.words)]
    content = [chunk(d) for d in deltas]
    fault = knobs.fault
    if fault == "cut-stream":  # the server closes the connection after these
        return events + content[: stream_shape.cut_count(knobs, len(content))]
    if fault == "malformed-chunk":
        content.insert(len(content) // 2, SSE_MALFORMED)
    events += stream_shape.with_stall(content, knobs)
    events.append(chunk({}, reply.finish_reason))
    if include_usage and fault != "no-usage":  # no-usage: a server that ignores stream_options.include_usage
        events.append(sse({**head, "choices": [], "usage": usage(reply.prompt_tokens, reply.completion_tokens)}))
    if fault != "no-done":
        events.append(SSE_DONE)
    return events


# ---- embeddings and models ------------------------------------------------------------------------


def embedding_inputs(value: object) -> list[str | list[int]] | None:
    """Normalise `input` (string, list of strings, token array, list of token arrays); None if invalid."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        if all(isinstance(v, int) for v in value):
            return [value]
        if all(isinstance(v, str) or (isinstance(v, list) and all(isinstance(t, int) for t in v)) for v in value):
            return value
    return None


def embedding_vector(item: str | list[int], dims: int) -> bytes:
    """Little-endian float32 unit vector derived from a hash of the input, so float and base64 agree."""
    seed = item.encode() if isinstance(item, str) else _dumps(item).encode()
    raw: list[float] = []
    block = 0
    while len(raw) < dims:
        digest = hashlib.blake2b(seed + block.to_bytes(4, "little"), digest_size=64).digest()
        raw.extend(b / 127.5 - 1.0 for b in digest)
        block += 1
    raw = raw[:dims]
    norm = math.sqrt(sum(v * v for v in raw)) or 1.0
    return struct.pack(f"<{dims}f", *(v / norm for v in raw))


def embeddings(model: str, inputs: list, dims: int, encoding_format: str) -> dict:
    data = []
    for index, item in enumerate(inputs):
        packed = embedding_vector(item, dims)
        if encoding_format == "base64":
            vector: object = base64.b64encode(packed).decode()
        else:
            vector = list(struct.unpack(f"<{dims}f", packed))
        data.append({"object": "embedding", "index": index, "embedding": vector})
    tokens = sum(len(i.split()) if isinstance(i, str) else len(i) for i in inputs)
    return {"object": "list", "data": data, "model": model, "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def model_object(model_id: str) -> dict:
    return {"id": model_id, "object": "model", "created": _MODELS_CREATED, "owned_by": "system"}


def models_list() -> dict:
    return {"object": "list", "data": [model_object(m) for m in MODELS]}


# ---- errors ---------------------------------------------------------------------------------------


def error(message: str, type_: str, param: str | None = None, code: str | None = None) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def insufficient_quota() -> dict:
    """OpenAI's 429 for an account out of credit (not a rate limit: waiting does not help)."""
    return error("You exceeded your current quota, please check your plan and billing details. For more "
                 "information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                 "insufficient_quota", code="insufficient_quota")


def invalid_api_key(key: str) -> dict:
    shown = key[:3] + "*" * 4 + key[-4:] if len(key) > 8 else key
    return error(
        f"Incorrect API key provided: {shown}. You can find your API key at "
        "https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        code="invalid_api_key",
    )


def missing_param(param: str) -> dict:
    message = f"Missing required parameter: '{param}'."
    return error(message, "invalid_request_error", param, "missing_required_parameter")


def server_error() -> dict:
    return error(
        "The server had an error while processing your request. Sorry about that!", "server_error"
    )


def fault_error(fault: str, model: str, key: str = "") -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) of a fault answered with an OpenAI error; None for other faults."""
    if fault in ("429", "429-no-retry-after"):
        headers = {"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0",
                   "x-ratelimit-reset-requests": "2s"}
        if fault == "429":
            headers["retry-after"] = "2"
        message = (f"Rate limit reached for {model} in organization org-emulator on requests per min (RPM): "
                   "Limit 500, Used 500, Requested 1. Please try again in 2s. "
                   "Visit https://platform.openai.com/account/rate-limits to learn more.")
        return 429, error(message, "requests", None, "rate_limit_exceeded"), headers
    if fault == "401":
        return 401, invalid_api_key(key), {}
    if fault == "503":
        return 503, error("The engine is currently overloaded, please try again later.", "server_error"), {}
    if fault == "context-length":
        message = ("This model's maximum context length is 128000 tokens. However, your messages resulted in "
                   "200000 tokens. Please reduce the length of the messages.")
        return 400, error(message, "invalid_request_error", "messages", "context_length_exceeded"), {}
    if fault == "content-filter":
        message = ("Your request was rejected as a result of our safety system. Your prompt may contain text "
                   "that is not allowed by our safety system.")
        return 400, error(message, "invalid_request_error", None, "content_filter"), {}
    if fault == "model-not-found":
        message = f"The model `{model}` does not exist or you do not have access to it."
        return 404, error(message, "invalid_request_error", None, "model_not_found"), {}
    return None
