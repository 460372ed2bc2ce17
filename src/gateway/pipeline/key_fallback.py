"""Open a provider response, moving down the key levels when the provider rejects a stored key.

Every endpoint's upstream call goes through here (EndpointPipeline.send): when the adapter classifies
the provider's answer as ErrorCategory.AUTH and the key was a stored credential, that credential is marked
invalid (status, last_error, last_failed_at) and the same request is built again for the next level's key
and sent once more; so at most one attempt per level. QUOTA_EXCEEDED on a stored key moves down the same
way without marking it (the key is good, its account is out of credit). An env or binding key is config,
not a row: its rejection is the final error. When no level is left, the provider's own rejection is the
answer (the attempt runner may then move to another provider). Each rejected attempt that is followed by
another is recorded as a failed attempt (`record_failure`).
"""

from __future__ import annotations

from typing import Callable

from gateway.errors import UpstreamError
from gateway.pipeline.context import RequestContext
from gateway.pipeline.credentials import CredentialResolver, KeyChoice, is_exhausted_key, is_rejected_key
from gateway.pipeline.upstream import open_response
from gateway.ports import Clock, HttpClient, Timeouts, UpstreamResponse
from gateway.providers.base import Endpoint, UpstreamRequest


async def open_with_key_fallback(
    ctx: RequestContext,
    credentials: CredentialResolver,
    choice: KeyChoice,
    adapter,
    build: Callable[[Endpoint], UpstreamRequest],
    http_for: Callable[[str], HttpClient],
    clock: Clock,
    timeouts: Timeouts,
    *,
    ai_binding: bool,
    record_failure: Callable[[float, UpstreamError], None],
) -> UpstreamResponse:
    while True:
        started = clock.monotonic()
        try:
            return await open_response(http_for(choice.level), clock, ctx, adapter, build(choice.endpoint), timeouts)
        except UpstreamError as error:
            if is_rejected_key(choice, error):
                await credentials.mark_invalid(choice, error)
            elif not is_exhausted_key(choice, error):
                raise
            try:
                choice = await credentials.choose(ctx.caller, choice.provider, choice.manifest,
                                                  ai_binding=ai_binding, after=choice.rank)
            except UpstreamError:
                raise error from None  # no level left: the provider's rejection is the answer
            record_failure(started, error)
            ctx.key_level = choice.level
            ctx.attempts += 1
