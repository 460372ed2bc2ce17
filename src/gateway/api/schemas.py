"""The OpenAI request bodies the gateway validates. Unknown fields are kept and passed on:
providers add parameters faster than any gateway release."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_core import PydanticCustomError


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class ChatMessage(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] | None = None


class StreamOptions(_Open):
    include_usage: bool | None = None


class ChatCompletionRequest(_Open):
    model: str = Field(min_length=1)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool | None = None
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, ge=0, le=1)
    n: int | None = Field(default=None, ge=1, le=128)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    stop: str | list[str] | None = Field(default=None)
    presence_penalty: float | None = Field(default=None, ge=-2, le=2)
    frequency_penalty: float | None = Field(default=None, ge=-2, le=2)
    seed: int | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    user: str | None = None


class EmbeddingsRequest(_Open):
    model: str = Field(min_length=1)
    input: (
        Annotated[str, Field(min_length=1)]
        | Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1, max_length=2048)]
        | Annotated[list[int], Field(min_length=1)]
        | Annotated[list[Annotated[list[int], Field(min_length=1)]], Field(min_length=1, max_length=2048)]
    ) = Field(description="a string, a list of strings, a token array or a list of token arrays (non-empty)")
    encoding_format: Literal["float", "base64"] | None = None
    dimensions: int | None = Field(default=None, ge=1)
    user: str | None = None

    @field_validator("input", mode="before")
    @classmethod
    def _input_shape(cls, value: Any) -> Any:
        """One clear message naming `input` rather than one per union branch."""
        problem = _embeddings_input_problem(value)
        if problem:
            raise PydanticCustomError("invalid_input", problem)
        return value


class SpeechRequest(_Open):
    model: str = Field(min_length=1)
    input: str = Field(min_length=1, max_length=4096)
    voice: str = Field(min_length=1, description="an OpenAI voice name; for ElevenLabs, the voice id")
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"] | None = None
    speed: float | None = Field(default=None, ge=0.25, le=4.0)
    instructions: str | None = None

    @field_validator("speed", mode="before")
    @classmethod
    def _speed_number(cls, value: Any) -> Any:
        """Strict mode refuses an int for a float; 1 is as good a speed as 1.0."""
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value



class ImagesRequest(_Open):
    """OpenAI `POST /v1/images/generations`. Which values a model takes (sizes, qualities) is the provider's
    to say: the adapters refuse what their provider cannot make, with a 400 naming the field."""

    model: str = Field(min_length=1)
    prompt: str = Field(min_length=1, max_length=32000)
    n: int | None = Field(default=None, ge=1, le=10)
    size: str | None = Field(default=None, min_length=1, description="WIDTHxHEIGHT in pixels (e.g. 1024x1024) or 'auto'")
    quality: str | None = Field(default=None, min_length=1, description="standard, hd (dall-e-3); low, medium, high, auto (gpt-image)")
    response_format: Literal["url", "b64_json"] | None = None
    style: Literal["vivid", "natural"] | None = None
    background: Literal["transparent", "opaque", "auto"] | None = None
    output_format: Literal["png", "jpeg", "webp"] | None = None
    output_compression: int | None = Field(default=None, ge=0, le=100)
    moderation: Literal["low", "auto"] | None = None
    user: str | None = None

def _embeddings_input_problem(value: Any) -> str | None:
    shape = "it must be a non-empty string, a non-empty list of non-empty strings, a token array or a list of token arrays"
    if isinstance(value, str):
        return None if value else f"empty string; {shape}"
    if not isinstance(value, list):
        return shape
    if not value:
        return f"empty list; {shape}"
    if len(value) > 2048:
        return "at most 2048 inputs per request"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    if all(isinstance(v, str) for v in value):
        return None if all(value) else f"an empty string in the list; {shape}"
    if all(isinstance(v, list) and v and all(isinstance(t, int) and not isinstance(t, bool) for t in v) for v in value):
        return None
    return shape


class CreateProviderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="the model-id prefix, e.g. 'ollama'")
    base_url: str = Field(pattern=r"^https?://", description="including /v1 where the server expects it")
    display_name: str | None = None


class VideoRequest(_Open):
    """OpenAI `POST /v1/videos` (JSON, or multipart as the OpenAI SDK sends it). Whether a provider can
    make a given `seconds` / `size` is its adapter's call (400 naming the field)."""

    model: str = Field(min_length=1)
    prompt: str = Field(min_length=1, max_length=32000)
    seconds: str | int | None = Field(default=None, description='clip length in seconds: "4", "8", "12" (OpenAI)')
    size: str | None = Field(default=None, pattern=r"^[1-9][0-9]{1,4}x[1-9][0-9]{1,4}$",
                             description="WIDTHxHEIGHT, e.g. 1280x720")
    input_reference: dict[str, Any] | None = Field(
        default=None, description='{"image_url": "data:image/png;base64,..."} or {"file_id": ...}; a multipart '
                                  "file upload becomes the first")

    @field_validator("seconds", mode="before")
    @classmethod
    def _whole_seconds(cls, value: Any) -> Any:
        if value is None:
            return value
        if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip().isdigit() \
                or int(str(value).strip()) < 1:
            raise PydanticCustomError("invalid_seconds", "a positive whole number of seconds, e.g. \"8\"")
        return value
