"""Request bodies of the model catalog's admin routes (docs/catalog.md). Unknown fields are refused."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from gateway.api.admin.schemas import _Request

Modality = Literal["chat", "embedding", "image", "tts", "stt", "video", "realtime"]
Price = float | None


class _Editable(_Request):
    """What an admin may set on a model: prices (null clears one), limits, scores, flags."""

    display_name: str | None = Field(default=None, max_length=200)
    supports_vision: bool | None = None
    supports_tools: bool | None = None
    supports_json: bool | None = None
    supports_streaming: bool | None = None
    enabled: bool | None = None
    context_window: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    input_usd_per_mtok: Price = Field(default=None, ge=0, description="USD per million input tokens")
    cached_input_usd_per_mtok: Price = Field(default=None, ge=0)
    output_usd_per_mtok: Price = Field(default=None, ge=0)
    reasoning_usd_per_mtok: Price = Field(default=None, ge=0, description="null: reasoning is billed as output")
    image_usd: dict[str, float] | None = Field(default=None, description='USD per image, e.g. {"1024x1024/standard": 0.04}')
    tts_usd_per_mchar: Price = Field(default=None, ge=0)
    stt_usd_per_minute: Price = Field(default=None, ge=0)
    video_usd_per_second: Price = Field(default=None, ge=0)
    video_usd_by_size: dict[str, float] | None = Field(default=None, description='USD per second by size, e.g. {"1792x1024": 0.5}')
    video_usd_per_video: Price = Field(default=None, ge=0, description="USD per generated video, whatever its length")
    neurons_per_mtok_input: Price = Field(default=None, ge=0, description="Workers AI neurons per million input tokens")
    neurons_per_mtok_output: Price = Field(default=None, ge=0)
    neurons_per_unit: Price = Field(default=None, ge=0)
    quality_score: float | None = Field(default=None, ge=0, le=10)
    speed_score: float | None = Field(default=None, ge=0, le=10)
    score_source: str | None = Field(default=None, max_length=500, description="where the two scores came from")


class UpdateModelRequest(_Editable):
    """PATCH: only the fields sent change; a price change bumps price_version (history source 'admin')."""


class CreateModelRequest(_Editable):
    provider_id: str = Field(min_length=1, description="an existing provider")
    upstream_name: str = Field(min_length=1, max_length=200, description="the name the provider's API expects")
    modality: Modality


class RefreshRequest(_Request):
    source: Literal["litellm", "models.dev"]
    url: str | None = Field(default=None, pattern=r"^https?://", description="fetch the catalog file from here")
    data: dict[str, Any] | None = Field(default=None, description="the catalog file itself (instead of url)")
    apply: bool = Field(default=False, description="false: only answer what would change")
