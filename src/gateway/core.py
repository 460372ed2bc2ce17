"""The gateway's services wired together once per isolate; HTTP routes and RPC methods both call it."""

from __future__ import annotations

import os
from typing import Mapping

from gateway.pipeline.accounting import UsageRecorder
from gateway.pipeline.auth import KeyAuthenticator, extract_key, is_admin_key
from gateway.pipeline.catalog import CatalogCache
from gateway.pipeline.chat import ChatPipeline
from gateway.pipeline.context import RequestContext
from gateway.pipeline.credentials import CredentialResolver
from gateway.pipeline.embeddings import EmbeddingsPipeline
from gateway.pipeline.fallback_rules import rules_for
from gateway.pipeline.health import monitor_for
from gateway.pipeline.images import ImagesPipeline
from gateway.pipeline.limits import RequestLimiter, TierTable
from gateway.pipeline.neurons import content_length
from gateway.pipeline.speech import SpeechPipeline
from gateway.pipeline.spend_watch import SpendWatch
from gateway.pipeline.video import VideoPipeline
from gateway.pipeline.transcription import TranscriptionPipeline
from gateway.ports import Ports
from gateway.settings import Settings


def new_request_id(now: float) -> str:
    """'req_' + milliseconds (hex, fixed width) + 80 random bits: unique, and sorted by time, so the
    usage log's primary key grows at its end instead of touching a random page per insert."""
    return f"req_{int(now * 1000):012x}{os.urandom(10).hex()}"


class Gateway:
    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings
        self.authenticator = KeyAuthenticator(
            ports.database, ports.clock, settings.key_cache_seconds, background=ports.background
        )
        self.catalog = CatalogCache(ports.database, ports.clock, settings.catalog_cache_seconds)
        self.limiter = RequestLimiter(ports, settings, TierTable(ports, settings.tier_cache_seconds))
        self.credentials = CredentialResolver.for_ports(ports, settings)  # one key cache for every pipeline
        self.health = monitor_for(ports, settings.health)  # the pipelines record into it (docs/health.md)
        self.chain_rules = rules_for(ports, settings)  # fallback chains per org; admin writes invalidate it
        # Spend rules checked after each usage batch is written (docs/alerts.md); one recorder for every pipeline,
        # so rows of all endpoints finishing together share one write and one check.
        self.spend_watch = SpendWatch(self, settings.spend_watch_refresh_seconds) if settings.spend_watch else None
        self.usage = UsageRecorder(ports.database, ports.background, settings.usage_flush_seconds,
                                   daily_free_neurons=settings.workers_ai_daily_neurons,
                                   on_written=self.spend_watch.observe if self.spend_watch else None)
        self.chat = ChatPipeline(ports, settings, self.catalog, usage=self.usage, credentials=self.credentials)
        self.embeddings = EmbeddingsPipeline(ports, settings, self.catalog, usage=self.usage,
                                             credentials=self.credentials)
        self.speech = SpeechPipeline(ports, settings, self.catalog, usage=self.usage, credentials=self.credentials)
        self.images = ImagesPipeline(ports, settings, self.catalog, usage=self.usage, credentials=self.credentials)
        self.video = VideoPipeline(ports, settings, self.catalog, usage=self.usage, credentials=self.credentials)
        self.transcription = TranscriptionPipeline(ports, settings, self.catalog, usage=self.usage,
                                                   credentials=self.credentials)

    def new_context(self, endpoint: str, started: float | None = None) -> RequestContext:
        clock = self.ports.clock
        return RequestContext(
            request_id=new_request_id(clock.now()),
            endpoint=endpoint,
            started=clock.monotonic() if started is None else started,
            received_at=clock.now(),
        )

    async def authenticate(self, ctx: RequestContext, headers: Mapping[str, str]) -> None:
        ctx.caller = await self.authenticator.authenticate(extract_key(headers))
        ctx.request_bytes = content_length(headers)
        await self.limiter.admit(ctx)  # the daily request limit, right after who is known

    def is_admin(self, headers: Mapping[str, str]) -> bool:
        return is_admin_key(extract_key(headers), self.settings.admin_key)
