"""The speech-to-text stage: route (the model must be an `stt` model), resolve the key, send the upload
through the provider's transcription adapter, render its normalized transcript in the client's
`response_format`, account for it.

Usage row: `endpoint = 'transcription'`, `units = {"seconds": S}`. S is the provider's own figure (its
billed seconds, else the duration it reported); where it gave none, the upload's length from its WAV
header; for other containers an estimate at 128 kbit/s, and the row's cost is then marked `estimated`.
Cost: token counts × token prices when the provider reported tokens and the catalog prices them,
else S / 60 × `stt_usd_per_minute` (`cost.transcription_cost`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from gateway.pipeline import accounting
from gateway.pipeline.attempts import Want
from gateway.pipeline.context import RequestContext
from gateway.pipeline.cost import AUDIO_ESTIMATE, estimated, transcription_cost
from gateway.pipeline.endpoint import EndpointPipeline, Route
from gateway.pipeline.router import needs_for
from gateway.transcription.request import TranscriptionRequest
from gateway.transcription.transcript import Transcript, render
from gateway.transcription.wav import audio_seconds


@dataclass(slots=True)
class TranscriptResult:
    """The rendered answer: JSON or text, whole (a transcript is small)."""

    body: dict[str, Any] | str   # a JSON object, or text (text, srt, vtt)
    media_type: str


class TranscriptionPipeline(EndpointPipeline):
    async def create(self, ctx: RequestContext, request: TranscriptionRequest) -> TranscriptResult:
        """Run a validated transcription upload for an authenticated caller."""
        ctx.requested_model = request.model
        want = Want("stt", "transcription", "transcription",
                    needs=lambda: needs_for("stt", {}, units=audio_seconds(request.file.data)[0] / 60.0))

        async def transcribe(route: Route) -> Transcript:
            model = ctx.target.upstream_model
            build = route.adapter.build_request
            raw, _ = await self.fetch(ctx, route, lambda endpoint: build(request, model, endpoint))
            return route.adapter.parse_response(raw, request)

        transcript = await self.attempt(ctx, want, transcribe)
        seconds, exact = self._seconds(transcript, request)
        body, media_type = render(transcript, request)
        ctx.usage = transcript.usage
        self._finish_transcribed(ctx, seconds, exact)
        return TranscriptResult(body, media_type)

    @staticmethod
    def _seconds(transcript: Transcript, request: TranscriptionRequest) -> tuple[float, bool]:
        """Seconds of audio to bill (and to show where the provider gave no duration)."""
        reported = transcript.billed_seconds if transcript.billed_seconds is not None else transcript.duration
        if reported is not None:
            return float(reported), True
        seconds, exact = audio_seconds(request.file.data)
        transcript.duration = round(seconds, 3)
        return seconds, exact

    def _finish_transcribed(self, ctx: RequestContext, seconds: float, exact: bool) -> None:
        row = accounting.usage_row(ctx, self._ports.clock.monotonic())
        entry = ctx.target.catalog_entry if ctx.target else None
        row["units"] = json.dumps({"seconds": round(seconds, 3)})
        cost = transcription_cost(seconds, ctx.usage, entry)
        by_minutes = ctx.usage is None or not entry or entry.get("input_usd_per_mtok") is None
        accounting.charge(row, estimated(cost, AUDIO_ESTIMATE) if by_minutes and not exact else cost, entry)
        self._record_row(row)
