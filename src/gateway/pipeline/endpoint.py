"""What every endpoint's pipeline shares: its ports, settings, catalog, usage recorder and upstream
timeouts, and how a request is accounted when it ends (in an answer or in an error)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Mapping, TypeVar

from gateway.errors import GatewayError, UpstreamError
from gateway.pipeline import accounting
from gateway.pipeline.attempts import AttemptRunner, Want
from gateway.pipeline.budgets import BudgetGuard
from gateway.pipeline.catalog import CatalogCache
from gateway.pipeline.context import RequestContext, Target
from gateway.pipeline.credentials import CredentialResolver, KeyChoice, KeyPin
from gateway.pipeline.fallback_rules import rules_for
from gateway.pipeline.health import monitor_for
from gateway.pipeline.key_fallback import open_with_key_fallback
from gateway.pipeline.neurons import NeuronGuard
from gateway.pipeline.targeting import adapter_for, resolve_target
from gateway.pipeline.upstream import read_body
from gateway.ports import HttpClient, Ports, Timeouts, UpstreamResponse
from gateway.ports.ai_binding import AiBindingHttp
from gateway.providers.base import Endpoint, UpstreamRequest
from gateway.settings import Settings

T = TypeVar("T")

log = logging.getLogger("gateway.attempts")


@dataclass(frozen=True, slots=True)
class Route:
    """Where one request goes: the provider's adapter for the endpoint, the key that serves it (its
    endpoint: URL and key), and the client that reaches it (the `AI` binding for key level 'binding',
    else the HTTP port)."""

    adapter: Any
    key: KeyChoice
    http: HttpClient

    @property
    def endpoint(self) -> Endpoint:
        return self.key.endpoint


class EndpointPipeline:
    def __init__(
        self, ports: Ports, settings: Settings, catalog: CatalogCache, usage: accounting.UsageRecorder | None = None,
        credentials: CredentialResolver | None = None,
    ) -> None:
        self._ports = ports
        self._settings = settings
        self._catalog = catalog
        self._usage = usage or accounting.UsageRecorder(ports.database, ports.background, settings.usage_flush_seconds,
                                                        daily_free_neurons=settings.workers_ai_daily_neurons)
        self._policy = settings.retry
        self._ai_http = AiBindingHttp(ports.ai) if ports.ai is not None else None
        self._credentials = credentials or CredentialResolver.for_ports(ports, settings)
        self._budgets = BudgetGuard(ports, settings)
        self._neurons = NeuronGuard(ports, settings)
        self._health = monitor_for(ports, settings.health)  # the isolate's one model-health monitor
        self._runner = AttemptRunner(
            catalog=catalog, credentials=self._credentials, health=self._health, neurons=self._neurons,
            rules=rules_for(ports, settings), policy=self._policy, clock=ports.clock, record_failed=self._record_failed,
            ai_binding=self._ai_http is not None,
        )

    async def route(
        self, ctx: RequestContext, *, modality: str, capability: str, label: str, starts_work: bool = True,
        pin: KeyPin | None = None,
    ) -> Route:
        """Resolve ctx.requested_model (no fallbacks: video jobs) to its provider's adapter for `capability`
        and the key that serves it. A request that starts provider work (`starts_work`: all but the status and
        content of a job already paid for) must fit the caller's budgets and the Workers AI neuron budget first."""
        target = await resolve_target(self._catalog, ctx, modality=modality, label=label)
        if starts_work:
            await self._budgets.check(ctx)
        return await self._route_to(ctx, target, capability, label, pin=pin, check_neurons=starts_work)

    async def attempt(self, ctx: RequestContext, want: Want, call: Callable[[Route], Awaitable[T]]) -> T:
        """Run `call` (one upstream attempt, raising UpstreamError on failure) for the requested model, or
        for `auto`'s pick, retrying and falling back as the failure's category says (attempts.py). The
        caller's budgets are checked once, before anything is sent."""
        await self._budgets.check(ctx)

        async def route(target: Target) -> Route:
            return await self._route_to(ctx, target, want.capability, want.label)

        return await self._runner.run(ctx, want, route, call)

    async def _route_to(self, ctx: RequestContext, target: Target, capability: str, label: str, *,
                        pin: KeyPin | None = None, check_neurons: bool = True) -> Route:
        """One target's route: its provider's adapter for `capability`, the key that serves it (user → org →
        tier → system → env → binding, credentials.py; sets ctx.key_level) and, before any Workers AI call,
        the neuron budget. Every upstream call is routed here, so none passes a spent neuron budget."""
        manifest, adapter = adapter_for(target, capability, label)
        provider = (await self._catalog.get()).providers[target.provider_id]
        key = await self._credentials.choose(ctx.caller, provider, manifest, ai_binding=self._ai_http is not None,
                                             pin=pin)
        ctx.key_level = key.level
        if check_neurons:
            await self._neurons.check(ctx)
        return Route(adapter, key, self._http_for(key.level))

    def _http_for(self, key_level: str) -> HttpClient:
        return self._ai_http if key_level == "binding" and self._ai_http is not None else self._ports.http

    async def send(self, ctx: RequestContext, route: Route, build: Callable[[Endpoint], UpstreamRequest], *,
                   open_ended: bool = False) -> UpstreamResponse:
        """Build the request for the route's key and open the answer; a stored key the provider rejects is
        marked invalid and the request is built and sent again with the next level's key (key_fallback.py)."""
        clock = self._ports.clock

        def record_failure(started: float, error: UpstreamError) -> None:
            self._record_failed(ctx, accounting.attempt_row(ctx, ctx.attempts, started, clock.monotonic(), error))

        return await open_with_key_fallback(ctx, self._credentials, route.key, route.adapter, build, self._http_for,
                                            clock, self.timeouts(ctx, open_ended=open_ended),
                                            ai_binding=self._ai_http is not None,
                                            record_failure=record_failure)

    async def fetch(self, ctx: RequestContext, route: Route, build: Callable[[Endpoint], UpstreamRequest]
                    ) -> tuple[bytes, Mapping[str, str]]:
        """`send`, then the whole answer body and its headers (the response closed either way)."""
        response = await self.send(ctx, route, build)
        try:
            return await read_body(self._ports.clock, ctx, response), response.headers
        finally:
            response.close()

    def timeouts(self, ctx: RequestContext, *, open_ended: bool = False) -> Timeouts:
        """One attempt's timeouts: its whole answer within UPSTREAM_TIMEOUT_SECONDS and what is left of the
        request's deadline (whole seconds, so the HTTP port's per-Timeouts cache stays small). `open_ended`
        (a chat stream): no total, since a long answer may stream for minutes; the caller bounds the wait
        for its first token (FIRST_TOKEN_TIMEOUT_SECONDS) and every silence after it (STREAM_IDLE_...)."""
        policy = self._policy
        if open_ended:
            return Timeouts(connect=policy.connect_seconds, total=None)
        left = policy.deadline_seconds - (self._ports.clock.monotonic() - ctx.started)
        total = max(1.0, min(policy.attempt_seconds, float(int(left) + 1)))
        return Timeouts(connect=policy.connect_seconds, total=total)

    def fail(self, ctx: RequestContext, error: GatewayError) -> None:
        """Account for a request that ends in an error answer (only authenticated callers get rows)."""
        ctx.status = "error"
        # The row is the last attempt's: its own failure, when the answer is an earlier one's (attempts.py).
        ctx.http_status, ctx.error_type = ctx.failure or (error.status, error.error_type)
        if ctx.caller is not None:
            self.finish(ctx)

    def finish(self, ctx: RequestContext, *, estimate: str | None = None) -> None:
        """Account for a request that ended; `estimate`: the note of usage the gateway estimated (cost.py)."""
        self._record_row(accounting.usage_row(ctx, self._ports.clock.monotonic(), estimate=estimate))

    def _record_failed(self, ctx: RequestContext, row: dict[str, Any]) -> None:
        """A failed attempt another one followed (a retry, a fallback, the next key level): its zero-cost
        row, and its category in x-gateway-fallback."""
        ctx.fallbacks += (row["error_type"],)
        log.info("request %s: attempt on %s failed (%s), trying again", ctx.request_id, row["model_id"],
                 row["error_type"])
        self._record_row(row)

    def _record_row(self, row: dict[str, Any]) -> None:
        self._health.observe(row)  # success or failure of the model, in memory (docs/health.md)
        self._usage.record(row)
