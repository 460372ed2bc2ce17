"""How the OpenAI-compatible providers' answers differ from OpenAI's, as pure functions (no I/O) applied
to what `openai_wire` builds. Deterministic, so tests can compute the expected fields themselves:

- DeepSeek (`/deepseek/chat/completions`): usage has `prompt_cache_hit_tokens` = 4 × (messages − 1)
  (the earlier turns are "cached"; at most prompt_tokens) and `prompt_cache_miss_tokens`, and no
  `prompt_tokens_details`. `deepseek-reasoner` thinks REASONING first: `message.reasoning_content`, and
  in streams one `delta.reasoning_content` per word before the content; its reasoning tokens (words of
  REASONING) are counted inside `completion_tokens` and in `completion_tokens_details.reasoning_tokens`.
- xAI (`/xai/v1/chat/completions`): grok-3-mini models think REASONING the same way, but xAI counts the
  reasoning tokens beside `completion_tokens`: total_tokens = prompt + completion + reasoning.
- Perplexity (`/perplexity/chat/completions`): CITATIONS and SEARCH_RESULTS at the top level of the
  answer and of every stream chunk; in streams the usage rides on the last chunk (the finish chunk),
  whether or not `stream_options` asked for it.
- Groq (`/groq/openai/v1/chat/completions`): `x_groq: {"id"}` on the answer and the first chunk; in
  streams the usage is only in `x_groq.usage` on the finish chunk (no usage-only chunk).
- Together AI (`/together/v1/chat/completions`): in streams the usage rides on the finish chunk (no
  usage-only chunk), whether or not `stream_options` asked for it.
Everything else (reply text, token rules, faults) is openai_wire's.
"""

from __future__ import annotations

import json
from typing import Any, Callable

from scripts.emulator import openai_wire as wire

REASONING = "Let me think this through carefully."
CITATIONS = ["https://example.com/emulated/first", "https://example.com/emulated/second"]
SEARCH_RESULTS = [
    {"title": "First emulated source", "url": CITATIONS[0], "date": "2026-01-02"},
    {"title": "Second emulated source", "url": CITATIONS[1], "date": "2026-02-03"},
]

# provider -> the path of its chat endpoint on the emulator (the real API's path under /<provider>)
CHAT_PATHS = {
    "deepseek": "/deepseek/chat/completions",
    "groq": "/groq/openai/v1/chat/completions",
    "xai": "/xai/v1/chat/completions",
    "perplexity": "/perplexity/chat/completions",
    "together": "/together/v1/chat/completions",
}


def reasons(provider: str, model: str) -> bool:
    """Does this model show its thinking (`reasoning_content`)?"""
    return (provider == "deepseek" and model == "deepseek-reasoner") or (
        provider == "xai" and model.startswith("grok-3-mini")
    )


def reasoning_tokens(provider: str, model: str) -> int:
    return len(REASONING.split()) if reasons(provider, model) else 0


def usage(provider: str, model: str, base: dict, body: dict) -> dict:
    """The provider's usage object for the counts openai_wire computed."""
    prompt, completion = base["prompt_tokens"], base["completion_tokens"]
    thinking = reasoning_tokens(provider, model)
    if provider == "deepseek":
        messages = body.get("messages") or []
        hit = min(4 * max(len(messages) - 1, 0), prompt)
        completion += thinking  # DeepSeek counts the chain of thought inside completion_tokens
        out = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
               "prompt_cache_hit_tokens": hit, "prompt_cache_miss_tokens": prompt - hit}
        if thinking:
            out["completion_tokens_details"] = {"reasoning_tokens": thinking}
        return out
    if provider == "xai":
        return {"prompt_tokens": prompt, "completion_tokens": completion,
                "total_tokens": prompt + completion + thinking,  # xAI counts reasoning beside completion
                "prompt_tokens_details": {"text_tokens": prompt, "audio_tokens": 0, "image_tokens": 0,
                                          "cached_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": thinking, "audio_tokens": 0,
                                              "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0},
                "num_sources_used": 0}
    if provider == "perplexity":
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
                "search_context_size": "low"}
    if provider == "groq":
        return {"queue_time": 0.01, "prompt_tokens": prompt, "prompt_time": 0.002, "completion_tokens": completion,
                "completion_time": 0.01, "total_tokens": prompt + completion, "total_time": 0.012}
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(provider: str, answer: dict, body: dict) -> dict:
    """A non-streamed openai_wire answer, as the provider sends it."""
    model = answer["model"]
    answer = {k: v for k, v in answer.items() if k not in ("service_tier", "system_fingerprint")}
    answer["usage"] = usage(provider, model, answer["usage"], body)
    if reasons(provider, model):
        for choice in answer["choices"]:
            choice["message"] = {"role": "assistant", "content": choice["message"].get("content"),
                                 "reasoning_content": REASONING,
                                 **{k: v for k, v in choice["message"].items() if k == "tool_calls"}}
    if provider == "perplexity":
        answer["citations"] = list(CITATIONS)
        answer["search_results"] = [dict(r) for r in SEARCH_RESULTS]
    if provider == "groq":
        answer["x_groq"] = {"id": "req_emu_" + answer["id"].rsplit("-", 1)[-1]}
    return answer


def stream_events(provider: str, events: list[bytes], include_usage: bool, body: dict) -> list[bytes]:
    """openai_wire's stream (built with include_usage=True, so the counts are there), as the provider
    streams it. Events that are not JSON chunks ([DONE], the malformed one) stay where they are."""
    items: list[Any] = [_decode(event) for event in events]
    chunks = [item for item in items if isinstance(item, dict)]
    if not chunks:
        return events
    model = chunks[0]["model"]
    usage_chunk = next((c for c in chunks if c.get("choices") == [] and c.get("usage")), None)
    counts = usage(provider, model, usage_chunk["usage"], body) if usage_chunk else None
    for chunk in chunks:
        chunk.pop("usage", None)
        chunk.pop("service_tier", None)
        chunk.pop("system_fingerprint", None)
    if reasons(provider, model):
        items = _with_reasoning(items, chunks[0])
    finish = next((c for c in chunks if any(ch.get("finish_reason") for ch in c.get("choices") or ())), None)
    _SHAPERS.get(provider, _openai_like)(items, chunks, usage_chunk, finish, counts, include_usage)
    if usage_chunk is not None and (provider not in ("deepseek", "xai") or not include_usage):
        items.remove(usage_chunk)
    return [item if isinstance(item, bytes) else wire.sse(item) for item in items]


def _decode(event: bytes) -> Any:
    if not event.startswith(b"data: {"):
        return event
    try:
        return json.loads(event[6:])
    except ValueError:
        return event


def _with_reasoning(items: list[Any], first: dict) -> list[Any]:
    words = REASONING.split()
    thinking = []
    for index, word in enumerate(words):
        choice = {"index": 0, "delta": {"content": None, "reasoning_content": word if index == 0 else " " + word},
                  "logprobs": None, "finish_reason": None}
        thinking.append({**{k: v for k, v in first.items() if k != "choices"}, "choices": [choice]})
    at = items.index(first) + 1
    return items[:at] + thinking + items[at:]


Shaper = Callable[[list, list, "dict | None", "dict | None", "dict | None", bool], None]


def _openai_like(items, chunks, usage_chunk, finish, counts, include_usage) -> None:
    if usage_chunk is not None and include_usage:
        usage_chunk["usage"] = counts


def _usage_on_finish(items, chunks, usage_chunk, finish, counts, include_usage) -> None:
    if finish is not None and counts is not None:
        finish["usage"] = counts


def _perplexity(items, chunks, usage_chunk, finish, counts, include_usage) -> None:
    for chunk in chunks:
        chunk["citations"] = list(CITATIONS)
        chunk["search_results"] = [dict(r) for r in SEARCH_RESULTS]
    _usage_on_finish(items, chunks, usage_chunk, finish, counts, include_usage)


def _groq(items, chunks, usage_chunk, finish, counts, include_usage) -> None:
    request_id = "req_emu_" + chunks[0]["id"].rsplit("-", 1)[-1]
    chunks[0]["x_groq"] = {"id": request_id}
    if finish is not None and counts is not None:
        finish["x_groq"] = {"id": request_id, "usage": counts}


_SHAPERS: dict[str, Shaper] = {"perplexity": _perplexity, "groq": _groq, "together": _usage_on_finish}
