"""The attempt loop: which models a request tries, in what order, and how each failure moves it on.

Every hot endpoint runs its upstream call through `AttemptRunner.run` (docs/fallbacks.md, docs/routing.md):

1. The first candidates: `auto` / `auto/<strategy>` → the router's ranking (router.py); a named model → that
   model alone (checked: modality, the key's policy, the endpoint's own check such as vision).
2. Each candidate is routed (adapter, key: user → … → binding, the Workers AI neuron budget) and called. A
   failure is classified (errors.ErrorCategory). rate_limit / server_error / timeout retry the same model
   and key after a backoff (Retry-After honoured up to a cap); invalid_request ends the request at once.
3. Then the category's fallback rule (fallback_rules.py: the org's, else the global one) says what comes
   next: the same model at another provider, the rest of the auto ranking, the rule's chain (entries
   "auto[/strategy]" expand to the router's pick), and free Workers AI as the last resort.
4. Bounded by MAX_ATTEMPTS and REQUEST_DEADLINE_SECONDS. An open circuit skips its model (unless nothing
   else is left). Each failed attempt another one followed leaves a zero-cost usage row `<request_id>.<n>`
   (attempt_of = the request); the request's own row is written by the pipeline as before. When everything
   failed, the first failure (the requested model's) is the answer, its message naming the last.
"""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable, TypeVar

from gateway.errors import ErrorCategory, GatewayError, InvalidRequestError, UpstreamError
from gateway.pipeline import accounting, router
from gateway.pipeline.catalog import Catalog, CatalogCache, require_modality
from gateway.pipeline.context import RequestContext, Target
from gateway.pipeline.credentials import CredentialResolver
from gateway.pipeline.fallback_rules import ChainRule, ChainRules, select_rule
from gateway.pipeline.health import HealthMonitor
from gateway.pipeline.key_policy import enforce_key_policy, permits
from gateway.pipeline.neurons import WORKERS_AI, NeuronGuard, estimate
from gateway.pipeline.retry_policy import RetryPolicy, backoff_seconds
from gateway.pipeline.strategies import DEFAULT_STRATEGY
from gateway.ports import Clock

T = TypeVar("T")

RETRY_SAME_MODEL = frozenset({ErrorCategory.RATE_LIMIT, ErrorCategory.SERVER_ERROR, ErrorCategory.TIMEOUT})
# The categories where the same model at another provider (same upstream name) is the next best thing.
SAME_MODEL_ELSEWHERE = frozenset({
    ErrorCategory.RATE_LIMIT, ErrorCategory.SERVER_ERROR, ErrorCategory.TIMEOUT, ErrorCategory.MODEL_NOT_FOUND,
    ErrorCategory.AUTH, ErrorCategory.QUOTA_EXCEEDED,
})


@dataclass(frozen=True, slots=True)
class Want:
    """What an endpoint asks of its model: the catalog modality, the manifest capability, the word errors
    use, what the request needs (lazily: only auto routing and fallbacks read it), and an extra check of a
    named model (vision for chat)."""

    modality: str
    capability: str
    label: str
    needs: Callable[[], router.Needs]
    check: Callable[[Target], None] | None = None
    same_model_only: bool = False  # a failure may move to another provider of the model, never to another model


@dataclass(slots=True)
class _Run:
    """One request's walk through its candidates."""

    ctx: RequestContext
    want: Want
    catalog: Catalog
    tried: set[str] = field(default_factory=set)
    spent: set[str] = field(default_factory=set)  # providers whose key is refused or out of quota: not again
    primary: str = ""  # the model the request named (or auto picked): what fallback rules are matched on
    strategy: str | None = None
    _needs: router.Needs | None = None
    _view: "_RouterView | None" = None

    @property
    def needs(self) -> router.Needs:
        if self._needs is None:
            needs = self.want.needs()
            if self.ctx.max_cost_usd is not None:
                needs = replace(needs, max_cost_usd=self.ctx.max_cost_usd)
            self._needs = needs
        return self._needs


class _RouterView:
    """What the router may ask about this caller and the isolate (router.RouterView)."""

    __slots__ = ("_keyed", "_health", "_neurons_left", "_ctx")

    def __init__(self, keyed: frozenset[str], health: HealthMonitor, ctx: RequestContext, neurons_left: float | None):
        self._keyed = keyed
        self._health = health
        self._ctx = ctx
        self._neurons_left = neurons_left

    def has_key(self, provider_id: str) -> bool:
        return provider_id in self._keyed

    def circuit_open(self, model_id: str) -> bool:
        return self._health.is_open(model_id)

    def measured_ms(self, model_id: str) -> tuple[float | None, int]:
        return self._health.measured(model_id)

    def neurons_fit(self, entry: dict[str, Any], needs: router.Needs) -> bool:
        if self._neurons_left is None or entry.get("provider_id") != WORKERS_AI:
            return True
        return estimate(entry, self._ctx.request_bytes, self._ctx.max_output_tokens) <= self._neurons_left

    def allowed(self, entry: dict[str, Any]) -> bool:
        return permits(self._ctx.caller, entry["provider_id"], entry["id"])


class _CircuitsIgnored:
    """A router view that sees no open circuit (when every candidate's is open)."""

    __slots__ = ("_view",)

    def __init__(self, view: _RouterView) -> None:
        self._view = view

    def circuit_open(self, model_id: str) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._view, name)


class AttemptRunner:
    """The isolate's attempt loop, shared by every endpoint pipeline of a Gateway."""

    def __init__(self, *, catalog: CatalogCache, credentials: CredentialResolver, health: HealthMonitor,
                 neurons: NeuronGuard, rules: ChainRules, policy: RetryPolicy, clock: Clock,
                 record_failed: Callable[[RequestContext, dict[str, Any]], None], ai_binding: bool) -> None:
        self._catalog = catalog
        self._credentials = credentials
        self._health = health
        self._neurons = neurons
        self._rules = rules
        self._policy = policy
        self._clock = clock
        self._record_failed = record_failed  # a failed attempt another followed: its row and header entry
        self._ai_binding = ai_binding

    async def run(self, ctx: RequestContext, want: Want, route: Callable[[Target], Awaitable[Any]],
                  call: Callable[[Any], Awaitable[T]]) -> T:
        """`route(target)` resolves adapter and key for a target (raises GatewayError when it cannot);
        `call(route)` makes one attempt and answers the result or raises (UpstreamError moves on)."""
        catalog = await self._catalog.get()
        run = _Run(ctx, want, catalog)
        queue = deque(await self._first(run))
        run.primary = queue[0].model_id
        policy = self._policy
        deadline = ctx.started + policy.deadline_seconds
        failures: list[GatewayError] = []  # the answer if nothing works: the first, naming the last
        pending_row: dict[str, Any] | None = None  # the last failure: the request's own row if nothing follows
        first = True
        while queue:
            target = queue.popleft()
            if target.model_id in run.tried:
                continue
            run.tried.add(target.model_id)
            if not self._health.allow(target.model_id):  # open (or half-open with its probe out)
                if not queue:  # a named model: what its failure would have brought, if anything
                    queue = await self._after(run, target, _circuit_open(target), queue)
                if queue:
                    continue  # skipped: no attempt, no row
                # nothing else is left: it is tried anyway
            ctx.target = target
            try:
                routed = await route(target)
            except UpstreamError as error:  # no key for it, or the provider lacks the capability
                failures.append(error)
                queue = await self._after(run, target, error, queue)
                continue
            except GatewayError as error:
                if not first or queue:
                    failures.append(error)  # e.g. the neuron budget: another candidate may still fit
                    continue
                raise
            retry = 0
            while True:
                if not first and (ctx.attempts >= policy.max_attempts or self._clock.monotonic() >= deadline):
                    raise _final(ctx, failures) if failures else _deadline_error()
                if pending_row is not None:
                    self._record_failed(ctx, pending_row)
                    pending_row = None
                if not first:
                    ctx.attempts += 1
                first = False
                started = self._clock.monotonic()
                ctx.usage, ctx.ttft_seconds = None, None
                try:
                    result = await call(routed)
                except UpstreamError as error:
                    failures.append(error)
                    pending_row = accounting.attempt_row(ctx, ctx.attempts, started, self._clock.monotonic(), error)
                    if error.category is ErrorCategory.INVALID_REQUEST:
                        if len(failures) == 1:
                            raise  # the caller's error: the answer, no fallback
                        break  # a fallback model refused what the first accepted: the next one may not
                    if error.category in RETRY_SAME_MODEL and retry < policy.retries_per_model:
                        retry += 1
                        wait = backoff_seconds(policy, retry, error.retry_after)
                        if wait is not None and self._clock.monotonic() + wait < deadline:
                            await self._wait(ctx, wait)
                            continue
                    break
                if pending_row is not None:
                    self._record_failed(ctx, pending_row)
                return result
            if failures[-1].category is not ErrorCategory.INVALID_REQUEST:
                queue = await self._after(run, target, failures[-1], queue)
        if not failures:
            raise _no_route(run)
        raise _final(ctx, failures)

    async def _wait(self, ctx: RequestContext, seconds: float) -> None:
        started = self._clock.monotonic()
        await asyncio.sleep(seconds)
        ctx.waited_seconds += self._clock.monotonic() - started  # not the gateway's own cost

    async def _first(self, run: _Run) -> list[Target]:
        ctx, want, catalog = run.ctx, run.want, run.catalog
        requested = ctx.requested_model or ""
        strategy = router.parse_auto(requested)
        if strategy is None:
            target = catalog.resolve(requested)
            require_modality(target, want.modality, want.label)
            enforce_key_policy(ctx.caller, target)
            if want.check is not None:
                want.check(target)
            return [target]
        strategy = strategy or (ctx.caller.default_strategy if ctx.caller else None) or DEFAULT_STRATEGY
        view = await self._view(run)
        ranking = router.rank(catalog.models, run.needs, strategy, view)
        if not ranking.ranked and any(why.startswith(router.CIRCUIT_OPEN) for why in ranking.excluded.values()):
            # Every model that could serve it has an open circuit: they are tried anyway (as a named model
            # is), best first; the loop skips all but the last, which goes out as a probe.
            ranking = router.rank(catalog.models, run.needs, strategy, _CircuitsIgnored(view))
        if not ranking.ranked:
            raise _no_route(run, ranking)
        run.strategy = ctx.route_strategy = strategy
        ctx.route_reason = ranking.reason()
        return [catalog.target_of(scored.entry) for scored in ranking.ranked]

    async def _view(self, run: _Run) -> _RouterView:
        if run._view is None:
            keyed = await self._credentials.keyed_providers(run.ctx.caller, run.catalog.providers,
                                                            ai_binding=self._ai_binding)
            run._view = _RouterView(keyed, self._health, run.ctx, await self._neurons.left())
        return run._view

    async def _after(self, run: _Run, failed: Target, error: GatewayError, queue: deque) -> deque:
        """The candidates after `failed` failed with `error` (its category's rule), the old queue's
        remains first only where the rule keeps them."""
        if not self._policy.fallbacks:
            return deque()  # FALLBACKS=off: the named (or auto-picked) model only
        category = error.category if isinstance(error, UpstreamError) else ErrorCategory.SERVER_ERROR
        rules = await self._rules.for_org(run.ctx.caller.org_id if run.ctx.caller else None)
        rule = select_rule(rules, run.ctx.caller.org_id if run.ctx.caller else None, category.value, run.primary)
        if rule is None:
            return deque()
        if category in (ErrorCategory.AUTH, ErrorCategory.QUOTA_EXCEEDED):
            run.spent.add(failed.provider_id)  # every level's key was tried: its other models fail alike
        needs = run.needs
        if category is ErrorCategory.CONTEXT_LENGTH:
            window = (failed.catalog_entry or {}).get("context_window")
            needs = replace(needs, min_context_window=window or needs.prompt_tokens)
            run._needs = needs  # later fallbacks keep the larger window
        view = await self._view(run)
        found: list[Target] = []
        if category in SAME_MODEL_ELSEWHERE:
            found += self._same_model_elsewhere(run, failed, needs, view)
        if run.want.same_model_only:
            return deque(_unique(found, run))
        if category is not ErrorCategory.CONTENT_FILTER:
            found += [t for t in queue if self._fits(run, t, needs, view)]  # the rest of auto's ranking or the chain
        found += self._chain(run, rule, needs, view)
        found = _unique(found, run)[: max(rule.max_attempts, 1)]
        if rule.allow_workers_ai:
            found += _unique(self._workers_ai(run, needs, view), run, found)[:1]
        return deque(found)

    def _fits(self, run: _Run, target: Target, needs: router.Needs, view: _RouterView) -> bool:
        entry = target.catalog_entry
        if entry is None:
            return needs.min_context_window is None
        return bool(router.rank((entry,), needs, run.strategy or DEFAULT_STRATEGY, view).ranked)

    def _same_model_elsewhere(self, run: _Run, failed: Target, needs: router.Needs, view: _RouterView) -> list[Target]:
        ids = run.catalog.by_upstream_name.get(failed.upstream_model, ())
        entries = [run.catalog.models[i] for i in ids if i != failed.model_id]
        ranking = router.rank(entries, needs, run.strategy or DEFAULT_STRATEGY, view)
        return [run.catalog.target_of(s.entry) for s in ranking.ranked]

    def _chain(self, run: _Run, rule: ChainRule, needs: router.Needs, view: _RouterView) -> list[Target]:
        found: list[Target] = []
        for item in rule.chain:
            strategy = router.parse_auto(item)
            if strategy is not None:
                ranking = router.rank(run.catalog.models, needs, strategy or run.strategy or DEFAULT_STRATEGY,
                                      view)
                found += [run.catalog.target_of(s.entry) for s in ranking.ranked if s.model_id not in run.tried][:1]
                continue
            entry = run.catalog.models.get(item)
            if entry is not None and router.rank((entry,), needs, run.strategy or DEFAULT_STRATEGY, view).ranked:
                found.append(run.catalog.target_of(entry))
        return found

    def _workers_ai(self, run: _Run, needs: router.Needs, view: _RouterView) -> list[Target]:
        entries = [m for m in run.catalog.models.values() if m["provider_id"] == WORKERS_AI]
        if not entries:
            return []
        ranking = router.rank(entries, needs, DEFAULT_STRATEGY, view)
        return [run.catalog.target_of(s.entry) for s in ranking.ranked]


def _unique(targets: list[Target], run: _Run, already: list[Target] = ()) -> list[Target]:
    """`targets` in order without repeats, without what was tried or queued, and without spent providers."""
    seen = run.tried | {target.model_id for target in already}
    out = []
    for target in targets:
        if target.model_id not in seen and target.provider_id not in run.spent:
            seen.add(target.model_id)
            out.append(target)
    return out


def _final(ctx: RequestContext, failures: list[GatewayError]) -> GatewayError:
    """When nothing worked the answer is the first failure (the requested model's, the root cause), its
    message naming the last; the request's own row records the last attempt's failure (ctx.failure)."""
    first, last = failures[0], failures[-1]
    ctx.failure = (last.status, last.error_type)
    if ctx.attempts > 1 and "attempts failed" not in first.message:
        first.message += f" (all {ctx.attempts} attempts failed; last: {last.message})" if last is not first else (
            f" (all {ctx.attempts} attempts failed)")
    return first


def _circuit_open(target: Target) -> UpstreamError:
    """How a model skipped for its open circuit is treated when picking what comes instead: as a failure
    of the provider (the server_error rule)."""
    return UpstreamError(ErrorCategory.SERVER_ERROR, f"{target.model_id}: circuit open", provider=target.provider_id)


def _deadline_error() -> UpstreamError:
    return UpstreamError(ErrorCategory.TIMEOUT, "the request's deadline passed before any provider could be tried")


def _no_route(run: _Run, ranking: Any = None) -> GatewayError:
    excluded = getattr(ranking, "excluded", None) or {}
    reasons: dict[str, int] = {}
    for why in excluded.values():
        if why.startswith((router.DISABLED, router.MODALITY)):
            continue  # never a candidate whatever the request: they would crowd out why this one found none
        reasons[why] = reasons.get(why, 0) + 1
    summary = ", ".join(f"{count} {why}" for why, count in sorted(reasons.items(), key=lambda kv: -kv[1])[:5])
    return InvalidRequestError(
        f"No {run.want.label} model can serve this request" + (f" (excluded: {summary})" if summary else "") + ".",
        param="model", code="no_route",
    )
