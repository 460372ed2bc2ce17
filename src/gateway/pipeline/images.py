"""The image-generation stage: route (the model must be an `image` model), resolve the key, call the
provider's image adapter, answer the OpenAI images JSON, account for it.

The provider's answer is read whole (JSON, or the image file itself: the adapter gets the bytes and their
content type) and becomes `{"created", "data": [{"b64_json" | "url", "revised_prompt"?}], …}`; `created`
is the provider's when it gave one, else the gateway's clock. The usage row (`endpoint = 'images'`) has
`units = {"images": N, "size", "quality"}` — N the images answered, size and quality those the adapter
says they were made at — and the cost N × the model's `image_usd` price for them (`cost.image_cost`).
"""

from __future__ import annotations

import json
from typing import Any

from gateway.pipeline import accounting
from gateway.pipeline.attempts import Want
from gateway.pipeline.chat import JsonResult
from gateway.pipeline.context import RequestContext
from gateway.pipeline.cost import image_cost
from gateway.pipeline.endpoint import EndpointPipeline, Route
from gateway.pipeline.router import needs_for
from gateway.providers.base import ImageResult


class ImagesPipeline(EndpointPipeline):
    async def create(self, ctx: RequestContext, body: dict[str, Any]) -> JsonResult:
        """Run a validated OpenAI image-generation request for an authenticated caller."""
        ctx.requested_model = body["model"]
        want = Want("image", "images", "image generation", needs=lambda: needs_for("image", body))

        async def generate(route: Route) -> ImageResult:
            upstream_model = ctx.target.upstream_model
            build = route.adapter.build_request
            raw, headers = await self.fetch(ctx, route, lambda endpoint: build(body, upstream_model, endpoint))
            return route.adapter.parse_response(raw, headers.get("content-type", ""), body, upstream_model)

        result = await self.attempt(ctx, want, generate)
        answer = {"created": int(self._ports.clock.now()), **result.answer}
        self._finish_images(ctx, result)
        return JsonResult(answer)

    def _finish_images(self, ctx: RequestContext, result: ImageResult) -> None:
        """The row of a request that produced images: billed per image at its size and quality."""
        images = len(result.answer.get("data") or ())
        row = accounting.usage_row(ctx, self._ports.clock.monotonic())
        entry = ctx.target.catalog_entry if ctx.target else None
        row["units"] = json.dumps({"images": images, "size": result.size, "quality": result.quality})
        accounting.charge(row, image_cost(images, result.size, result.quality, entry), entry)
        self._record_row(row)
