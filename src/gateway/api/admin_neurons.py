"""GET /admin/neurons: today's Workers AI neurons against the daily free budget (system admins only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from starlette.responses import Response

from gateway.api.admin_access import Principal, system_principal
from gateway.api.responses import json_response
from gateway.core import Gateway
from gateway.pipeline.periods import seconds_to_next_day, utc_day
from gateway.storage import counters

router = APIRouter(prefix="/admin", tags=["Admin"])


class NeuronModel(BaseModel):
    model_id: str
    neurons: float
    requests: int


class NeuronReport(BaseModel):
    day: str                 # the UTC day, YYYY-MM-DD
    budget: float            # WORKERS_AI_DAILY_NEURONS
    used: float
    remaining: float         # never below 0
    paid_allowed: bool       # WORKERS_AI_PAID: calls beyond the budget are allowed (and billed)
    resets_in_seconds: int   # until 00:00 UTC
    models: list[NeuronModel]


@router.get("/neurons", summary="Today's Workers AI neurons, the daily budget and what is left, per model",
            response_model=NeuronReport)
async def neurons(request: Request, principal: Principal = Depends(system_principal)) -> Response:
    gateway: Gateway = request.app.state.gateway
    now = gateway.ports.clock.now()
    day = utc_day(now)
    rows = await counters.neurons_on(gateway.ports.database, day)
    used = round(sum(float(row["neurons"]) for row in rows), 4)
    budget = gateway.settings.workers_ai_daily_neurons
    return json_response({
        "day": day,
        "budget": budget,
        "used": used,
        "remaining": round(max(budget - used, 0.0), 4),
        "paid_allowed": gateway.settings.workers_ai_paid,
        "resets_in_seconds": seconds_to_next_day(now),
        "models": [{"model_id": row["model_id"], "neurons": round(float(row["neurons"]), 4),
                    "requests": int(row["requests"])} for row in rows],
    })
