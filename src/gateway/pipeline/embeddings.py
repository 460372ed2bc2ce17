"""The embeddings stage: route (the model must be an embedding model), resolve the key, call the
provider's embeddings adapter, answer the OpenAI list, account for it.

The same stages as chat, in the same order, sharing the upstream helpers; the usage row's cost is input
tokens × the model's input price (`cost.chat_cost` with no output). A provider that reports no token
counts (Gemini) is billed with the documented estimator (4 characters a token; a token array counts its
length) and the row is marked `estimated`.
"""

from __future__ import annotations

from typing import Any

from gateway.pipeline.attempts import Want
from gateway.pipeline.chat import JsonResult
from gateway.pipeline.context import RequestContext
from gateway.pipeline.cost import TOKENS_ESTIMATE, estimate_tokens
from gateway.pipeline.endpoint import EndpointPipeline, Route
from gateway.pipeline.router import needs_for
from gateway.pipeline.upstream import read_json
from gateway.usage import Usage


class EmbeddingsPipeline(EndpointPipeline):
    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> JsonResult:
        """Run a validated OpenAI embeddings request for an authenticated caller."""
        ctx.requested_model = body["model"]
        # Vectors of two models do not mix in one index: a failure never moves to another model.
        want = Want("embedding", "embeddings", "embeddings", needs=lambda: needs_for("embedding", body),
                    same_model_only=True)

        async def embed(route: Route) -> tuple[dict[str, Any], Usage | None]:
            build = route.adapter.build_request
            response = await self.send(ctx, route, lambda endpoint: build(body, ctx.target.upstream_model, endpoint))
            try:
                payload = await read_json(self._ports.clock, ctx, response)
            finally:
                response.close()
            return route.adapter.parse_response(payload, body)

        answer, usage = await self.attempt(ctx, want, embed)
        estimate = None
        if usage is None:
            usage, estimate = estimate_usage(body.get("input")), TOKENS_ESTIMATE
            answer["usage"] = {"prompt_tokens": usage.input_tokens, "total_tokens": usage.input_tokens}
        ctx.usage = usage
        self.finish(ctx, estimate=estimate)
        return JsonResult(answer)



def estimate_usage(value: Any) -> Usage:
    """The documented estimate of an embeddings input: 4 characters a token per text (rounded up),
    a token array's length as it is."""
    items = [value] if isinstance(value, str) or (isinstance(value, list) and value and isinstance(value[0], int)) else value
    tokens = 0
    for item in items or ():
        tokens += estimate_tokens(len(item)) if isinstance(item, str) else len(item)
    return Usage(input_tokens=tokens)
