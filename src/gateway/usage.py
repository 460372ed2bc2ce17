"""Token usage as the gateway counts it, whatever shape the provider reported it in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping


@dataclass(slots=True)
class Usage:
    input_tokens: int = 0
    cached_input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0

    @classmethod
    def from_openai(cls, usage: Mapping[str, Any] | None) -> "Usage | None":
        """Read an OpenAI `usage` object (chat or embeddings); None when it is absent.

        Also read as OpenAI-compatible providers vary it:
        - cached input from `prompt_tokens_details.cached_tokens`, else DeepSeek's `prompt_cache_hit_tokens`;
        - reasoning tokens are counted inside `completion_tokens` (OpenAI, DeepSeek). xAI reports them
          beside it instead (`total_tokens` = prompt + completion + reasoning): then they are added to
          the output count, so output always includes reasoning, as cost arithmetic expects.
        """
        if not usage:
            return None
        prompt_details = usage.get("prompt_tokens_details") or {}
        completion_details = usage.get("completion_tokens_details") or {}
        prompt = int(usage.get("prompt_tokens") or 0)
        completion = int(usage.get("completion_tokens") or 0)
        reasoning = int(completion_details.get("reasoning_tokens") or 0)
        cached = prompt_details.get("cached_tokens") or usage.get("prompt_cache_hit_tokens") or 0
        total = usage.get("total_tokens")
        if reasoning and isinstance(total, int) and total == prompt + completion + reasoning:
            completion += reasoning
        return cls(
            input_tokens=prompt,
            cached_input_tokens=int(cached),
            output_tokens=completion,
            reasoning_tokens=reasoning,
        )

    def to_openai(self) -> dict[str, Any]:
        """The OpenAI `usage` object, for adapters whose provider reports usage its own way."""
        return {
            "prompt_tokens": self.input_tokens,
            "completion_tokens": self.output_tokens,
            "total_tokens": self.input_tokens + self.output_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_input_tokens},
            "completion_tokens_details": {"reasoning_tokens": self.reasoning_tokens},
        }
