"""Gemini API wire format (`generateContent` / `streamGenerateContent`): bodies, SSE chunks and error
envelopes, as pure functions (no I/O).

The reply and token rules are openai_wire's, applied to the Gemini request read as a chat:
- a content's text: its `text` parts joined with a single space, a `functionResponse` part counting as its
  compact JSON `response`; `systemInstruction` is the first message; role "model" is the assistant;
- the reply, prompt tokens (words + 4 per message), completion tokens, `maxOutputTokens` → "length"
  (Gemini: MAX_TOKENS), and the tool call (the first function declaration, args {"location": "Paris"},
  when the last user text says "weather" and functionCallingConfig.mode is not NONE; finishReason STOP)
  are openai_wire.plan_reply's. `candidateCount` = N answers N identical candidates; usage counts one.
- a stream: one chunk per word (the text after the first word carries its leading space), the last word
  with finishReason and the full usageMetadata; earlier chunks carry the running usage. Events end in
  CRLF CRLF, as Google's do. There is no [DONE].
"""

from __future__ import annotations

import json
import struct

from scripts.emulator import openai_wire, stream_shape
from scripts.emulator.knobs import Knobs
from scripts.emulator.openai_wire import Reply, encode, plan_reply

TOOL_ARGS = json.loads(openai_wire.TOOL_ARGUMENTS)
SSE_MALFORMED = b'data: {"candidates": broken\r\n\r\n'
_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP", "content_filter": "SAFETY"}
_BLOCKED_RATINGS = [{"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True}]


def sse(obj: object) -> bytes:
    return b"data: " + encode(obj) + b"\r\n\r\n"


# ---- requests -------------------------------------------------------------------------------------


def _part_text(part: object) -> str | None:
    if not isinstance(part, dict):
        return None
    if isinstance(part.get("text"), str):
        return part["text"]
    if isinstance(part.get("functionResponse"), dict):
        return openai_wire._dumps(part["functionResponse"].get("response"))
    return None


def content_text(content: object) -> str:
    parts = content.get("parts") if isinstance(content, dict) else None
    if not isinstance(parts, list):
        return ""
    return " ".join(t for t in map(_part_text, parts) if t is not None)


def as_chat(body: dict) -> dict:
    """The Gemini request read as an OpenAI chat body, so openai_wire's rules apply to it."""
    messages = []
    if isinstance(body.get("systemInstruction"), dict):
        messages.append({"role": "system", "content": content_text(body["systemInstruction"])})
    for content in body.get("contents") or ():
        role = "assistant" if isinstance(content, dict) and content.get("role") == "model" else "user"
        messages.append({"role": role, "content": content_text(content)})
    chat: dict = {"messages": messages}
    declarations = [d for t in body.get("tools") or () if isinstance(t, dict) for d in t.get("functionDeclarations") or ()]
    if declarations:
        chat["tools"] = [{"type": "function", "function": {"name": declarations[0].get("name", "tool")}}]
        mode = ((body.get("toolConfig") or {}).get("functionCallingConfig") or {}).get("mode")
        if mode == "NONE":
            chat["tool_choice"] = "none"
    limit = (body.get("generationConfig") or {}).get("maxOutputTokens")
    if limit is not None:
        chat["max_tokens"] = limit
    return chat


def chat_texts(body: dict) -> list[str]:
    return [m["content"] for m in as_chat(body)["messages"]]


def plan(body: dict, fault: str | None) -> Reply:
    chat = as_chat(body)
    return plan_reply(chat, [m["content"] for m in chat["messages"]], fault)


def candidate_count(body: dict) -> int:
    count = (body.get("generationConfig") or {}).get("candidateCount")
    return count if isinstance(count, int) and 1 <= count <= 8 else 1


# ---- answers --------------------------------------------------------------------------------------


def usage_metadata(prompt_tokens: int, candidate_tokens: int | None) -> dict:
    usage = {"promptTokenCount": prompt_tokens}
    if candidate_tokens is not None:
        usage["candidatesTokenCount"] = candidate_tokens
    usage["totalTokenCount"] = prompt_tokens + (candidate_tokens or 0)
    usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt_tokens}]
    return usage


def _parts(reply: Reply, words: list[str] | None = None) -> list[dict]:
    if reply.tool_name:
        return [{"functionCall": {"name": reply.tool_name, "args": TOOL_ARGS}}]
    return [{"text": " ".join(reply.words if words is None else words)}]


def _candidate(index: int, parts: list[dict] | None, finish: str | None) -> dict:
    candidate: dict = {}
    if parts is not None:
        candidate["content"] = {"parts": parts, "role": "model"}
    if finish is not None:
        candidate["finishReason"] = finish
        if finish == "SAFETY":
            candidate["safetyRatings"] = _BLOCKED_RATINGS
    candidate["index"] = index
    return candidate


def blocked_prompt(model: str, response_id: str, prompt_tokens: int) -> dict:
    """What Gemini answers (HTTP 200) when the prompt itself is blocked: no candidates."""
    return {
        "promptFeedback": {"blockReason": "SAFETY", "safetyRatings": _BLOCKED_RATINGS},
        "usageMetadata": usage_metadata(prompt_tokens, None),
        "modelVersion": model,
        "responseId": response_id,
    }


def generate_content(model: str, response_id: str, reply: Reply, candidates: int) -> dict:
    finish = _FINISH[reply.finish_reason]
    parts = None if finish == "SAFETY" else _parts(reply)
    return {
        "candidates": [_candidate(i, parts, finish) for i in range(candidates)],
        "usageMetadata": usage_metadata(reply.prompt_tokens, reply.completion_tokens or None),
        "modelVersion": model,
        "responseId": response_id,
    }


def stream_chunks(model: str, response_id: str, reply: Reply, candidates: int, knobs: Knobs) -> list[bytes]:
    """The SSE events of one streamed answer; stream faults shape the list here."""
    tail = {"modelVersion": model, "responseId": response_id}
    finish = _FINISH[reply.finish_reason]

    def chunk(parts: list[dict] | None, finish_reason: str | None, produced: int | None) -> bytes:
        body = {"candidates": [_candidate(i, parts, finish_reason) for i in range(candidates)],
                "usageMetadata": usage_metadata(reply.prompt_tokens, produced)}
        return sse({**body, **tail})

    if reply.tool_name:
        events = [chunk(_parts(reply), finish, reply.completion_tokens)]
    elif finish == "SAFETY":
        events = [chunk(None, finish, None)]
    else:
        words = reply.words
        events = [
            chunk([{"text": word if i == 0 else " " + word}], finish if i == len(words) - 1 else None,
                  i + 1 if i < len(words) - 1 else reply.completion_tokens)
            for i, word in enumerate(words)
        ]
    fault = knobs.fault
    if fault == "cut-stream":  # the server closes the connection after these: no finish reason
        return events[: stream_shape.cut_count(knobs, max(len(events) - 1, 0))]
    if fault == "malformed-chunk":
        events.insert(len(events) // 2, SSE_MALFORMED)
    return stream_shape.with_stall(events, knobs)


# ---- embeddings (`:batchEmbedContents`) ----------------------------------------------------------
#
# Each request's text is its content's `text` parts joined with a single space; its vector is
# openai_wire.embedding_vector(text, outputDimensionality or EMBEDDING_DIMS) read as float32 values, so
# Gemini vectors equal what the OpenAI route answers for the same text and dimensions. Google answers
# floats only and no token counts.


def embed_texts(body: dict) -> list[str]:
    requests = body.get("requests")
    if not isinstance(requests, list):
        return []
    return [content_text(r.get("content")) if isinstance(r, dict) else "" for r in requests]


def batch_embed_problem(body: dict, model: str) -> str | None:
    """Google's INVALID_ARGUMENT message for a malformed batch, or None."""
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        return "* BatchEmbedContentsRequest.requests: requests is not specified\n"
    for index, request in enumerate(requests):
        if not isinstance(request, dict) or not isinstance(request.get("content"), dict):
            return f"* BatchEmbedContentsRequest.requests[{index}].content: content is not specified\n"
        if request.get("model") != f"models/{model}":
            return (f"Model name in the request ({request.get('model')}) does not match the model in the URL "
                    f"(models/{model}) at requests[{index}].")
        dims = request.get("outputDimensionality")
        if dims is not None and (not isinstance(dims, int) or not 0 < dims <= 4096):
            return f"* BatchEmbedContentsRequest.requests[{index}].output_dimensionality: must be positive\n"
    return None


def batch_embed_contents(body: dict) -> dict:
    embeddings = []
    for request, text in zip(body["requests"], embed_texts(body)):
        dims = request.get("outputDimensionality") or openai_wire.EMBEDDING_DIMS
        packed = openai_wire.embedding_vector(text, dims)
        embeddings.append({"values": list(struct.unpack(f"<{dims}f", packed))})
    return {"embeddings": embeddings}


# ---- errors ---------------------------------------------------------------------------------------

STATUS_NAMES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED"}


def error(code: int, message: str, details: list[dict] | None = None) -> dict:
    body: dict = {"code": code, "message": message, "status": STATUS_NAMES.get(code, "UNKNOWN")}
    if details:
        body["details"] = details
    return {"error": body}


def unregistered_caller() -> dict:
    """No key in the header or the query: Google's answer."""
    return error(403, "Method doesn't allow unregistered callers (callers without established identity). "
                      "Please use API Key or other form of API consumer identity to call this API.")


def server_error() -> dict:
    return error(500, "An internal error has occurred. Please retry or report in "
                      "https://developers.generativeai.google/guide/troubleshooting")


def invalid_argument(message: str) -> dict:
    return error(400, message)


def fault_error(fault: str, model: str) -> tuple[int, dict, dict[str, str]] | None:
    """(status, body, headers) of a fault answered with a Gemini error; None for other faults."""
    if fault in ("429", "429-no-retry-after"):
        if fault == "429-no-retry-after":
            return 429, error(429, "Resource has been exhausted (e.g. check quota)."), {}
        details = [
            {"@type": "type.googleapis.com/google.rpc.QuotaFailure",
             "violations": [{"quotaMetric": "generativelanguage.googleapis.com/generate_content_requests",
                             "quotaId": "GenerateRequestsPerMinutePerProjectPerModel",
                             "quotaDimensions": {"location": "global", "model": model}, "quotaValue": "1000"}]},
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "2s"},
        ]
        message = ("You exceeded your current quota, please check your plan and billing details. For more "
                   "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.")
        return 429, error(429, message, details), {}
    if fault == "401":
        return 401, error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, "
                               "login cookie or other valid authentication credential."), {}
    if fault == "503":
        return 503, error(503, "The model is overloaded. Please try again later."), {}
    if fault == "context-length":
        return 400, invalid_argument("The input token count (1200000) exceeds the maximum number of tokens "
                                     "allowed (1048576)."), {}
    if fault == "model-not-found":
        message = (f"models/{model} is not found for API version v1beta, or is not supported for generateContent. "
                   "Call ListModels to see the list of available models and their supported methods.")
        return 404, error(404, message), {}
    return None
