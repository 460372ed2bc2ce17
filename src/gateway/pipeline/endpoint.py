"""What every endpoint's pipeline shares: its ports, settings, catalog, usage recorder and upstream
timeouts, and how a request is accounted when it ends (in an answer or in an error)."""

from __future__ import annotations

from gateway.errors import GatewayError
from gateway.pipeline import accounting
from gateway.pipeline.catalog import CatalogCache
from gateway.pipeline.context import RequestContext
from gateway.ports import Ports, Timeouts
from gateway.settings import Settings


class EndpointPipeline:
    def __init__(
        self, ports: Ports, settings: Settings, catalog: CatalogCache, usage: accounting.UsageRecorder | None = None
    ) -> None:
        self._ports = ports
        self._settings = settings
        self._catalog = catalog
        self._usage = usage or accounting.UsageRecorder(ports.database, ports.background, settings.usage_flush_seconds)
        self._timeouts = Timeouts(connect=settings.connect_timeout_seconds, total=settings.upstream_timeout_seconds)

    def fail(self, ctx: RequestContext, error: GatewayError) -> None:
        """Account for a request that ends in an error answer (only authenticated callers get rows)."""
        ctx.status = "error"
        ctx.http_status = error.status
        ctx.error_type = error.error_type
        if ctx.caller is not None:
            self.finish(ctx)

    def finish(self, ctx: RequestContext, *, estimated: bool = False) -> None:
        self._usage.record(accounting.usage_row(ctx, self._ports.clock.monotonic(), estimated=estimated))
