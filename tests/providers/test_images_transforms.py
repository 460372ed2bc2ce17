"""Image-generation transforms: OpenAI's passthrough (and xAI's refusals), Together AI's width/height body,
Imagen's `:predict` instances and aspect ratios, Workers AI's FLUX JSON and Stable Diffusion image bytes,
media types read from bytes, and the per-image price lookup. Plain Python (these also run inside Pyodide)."""

from __future__ import annotations

import base64
import json

import pytest

from gateway.errors import ErrorCategory, InvalidRequestError, UpstreamError
from gateway.pipeline.cost import image_cost, image_price_keys
from gateway.providers import registry
from gateway.providers.base import Endpoint
from gateway.providers.gemini.images import IMAGES as IMAGEN
from gateway.providers.openai.images import IMAGES as OPENAI
from gateway.providers.openai_format.images import sniff_media_type
from gateway.providers.together.images import IMAGES as TOGETHER
from gateway.providers.workers_ai.images import IMAGES as WORKERS_AI
from gateway.providers.xai.images import IMAGES as XAI

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 24
PNG_B64 = base64.b64encode(PNG).decode()
JPEG_B64 = base64.b64encode(JPEG).decode()
OPENAI_ENDPOINT = Endpoint("https://api.openai.com/v1/", "sk-test")
GEMINI_ENDPOINT = Endpoint("https://generativelanguage.googleapis.com", "g-key")
TOGETHER_ENDPOINT = Endpoint("https://api.together.xyz/v1", "t-key")
CF_ENDPOINT = Endpoint("https://api.cloudflare.com/client/v4/accounts/acc/ai/run", "cf-token")
FLUX = "@cf/black-forest-labs/flux-1-schnell"
SDXL = "@cf/stabilityai/stable-diffusion-xl-base-1.0"


def sent(request) -> dict:
    return json.loads(request.body)


def refused(call, param: str) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        call()
    assert caught.value.param == param
    return caught.value


def test_registry_offers_images_where_expected():
    offered = {m.name for m in registry.all_manifests() if m.images is not None}
    assert offered == {"openai", "gemini", "together", "xai", "workers_ai"}


# ---- OpenAI format ---------------------------------------------------------------------------------


def test_openai_body_passed_through_with_upstream_model():
    body = {"model": "openai/dall-e-3", "prompt": "a cat", "n": 1, "size": "1792x1024", "quality": "hd",
            "style": "natural", "response_format": "b64_json", "user": "u1"}
    request = OPENAI.build_request(body, "dall-e-3", OPENAI_ENDPOINT)
    assert (request.method, request.url) == ("POST", "https://api.openai.com/v1/images/generations")
    assert request.headers["authorization"] == "Bearer sk-test"
    assert sent(request) == {**body, "model": "dall-e-3"}


def test_gpt_image_is_not_sent_response_format():
    body = {"model": "gpt-image-1", "prompt": "a cat", "response_format": "url", "output_format": "jpeg"}
    payload = sent(OPENAI.build_request(body, "gpt-image-1", OPENAI_ENDPOINT))
    assert "response_format" not in payload and payload["output_format"] == "jpeg"


def test_gpt_image_url_is_a_data_url_of_the_right_type():
    answer = json.dumps({"created": 5, "data": [{"b64_json": JPEG_B64}], "size": "1024x1536", "quality": "high",
                         "usage": {"input_tokens": 3}}).encode()
    body = {"model": "gpt-image-1", "prompt": "x", "response_format": "url", "output_format": "jpeg"}
    result = OPENAI.parse_response(answer, "application/json", body, "gpt-image-1")
    assert result.answer["data"] == [{"url": "data:image/jpeg;base64," + JPEG_B64}]
    assert result.answer["usage"] == {"input_tokens": 3} and result.answer["created"] == 5
    assert (result.size, result.quality) == ("1024x1536", "high")  # what the answer says it made


def test_dall_e_answer_passed_through_with_documented_defaults():
    answer = json.dumps({"created": 1, "data": [{"url": "https://files/x.png", "revised_prompt": "r"}]}).encode()
    result = OPENAI.parse_response(answer, "application/json", {"model": "dall-e-3", "prompt": "x"}, "dall-e-3")
    assert result.answer["data"] == [{"url": "https://files/x.png", "revised_prompt": "r"}]
    assert (result.size, result.quality) == ("1024x1024", "standard")
    asked = {"model": "dall-e-3", "prompt": "x", "size": "1024x1792", "quality": "hd"}
    assert OPENAI.parse_response(answer, "application/json", asked, "dall-e-3").size == "1024x1792"


def test_openai_answer_without_images_is_a_server_error():
    with pytest.raises(UpstreamError) as caught:
        OPENAI.parse_response(b'{"data": []}', "application/json", {"prompt": "x"}, "dall-e-2")
    assert caught.value.category is ErrorCategory.SERVER_ERROR


@pytest.mark.parametrize("param", ["size", "quality", "style"])
def test_xai_refuses_what_it_cannot_honour(param):
    body = {"model": "grok-2-image", "prompt": "x", param: "1024x1024" if param == "size" else "hd"}
    refused(lambda: XAI.build_request(body, "grok-2-image", Endpoint("https://api.x.ai/v1", "k")), param)


def test_xai_without_refused_fields_is_passed_through():
    request = XAI.build_request({"model": "xai/grok-2-image", "prompt": "x", "n": 2}, "grok-2-image",
                                Endpoint("https://api.x.ai/v1", "k"))
    assert request.url == "https://api.x.ai/v1/images/generations"
    assert sent(request) == {"model": "grok-2-image", "prompt": "x", "n": 2}


# ---- Together AI -----------------------------------------------------------------------------------


def test_together_body_maps_size_and_formats():
    body = {"model": "together/x", "prompt": "a cat", "n": 2, "size": "1792x1024", "response_format": "b64_json",
            "output_format": "png", "quality": "hd", "style": "vivid", "user": "u", "steps": 4, "seed": 7}
    request = TOGETHER.build_request(body, "black-forest-labs/FLUX.1-schnell", TOGETHER_ENDPOINT)
    assert request.url == "https://api.together.xyz/v1/images/generations"
    assert request.headers["authorization"] == "Bearer t-key"
    assert sent(request) == {"model": "black-forest-labs/FLUX.1-schnell", "prompt": "a cat", "n": 2, "width": 1792,
                             "height": 1024, "response_format": "base64", "output_format": "png", "steps": 4, "seed": 7}


def test_together_defaults_to_a_url_answer():
    payload = sent(TOGETHER.build_request({"prompt": "x", "size": "auto"}, "m", TOGETHER_ENDPOINT))
    assert payload == {"model": "m", "prompt": "x", "response_format": "url"}


@pytest.mark.parametrize("body, param", [
    ({"prompt": "x", "n": 5}, "n"),
    ({"prompt": "x", "output_format": "webp"}, "output_format"),
    ({"prompt": "x", "size": "large"}, "size"),
])
def test_together_refusals(body, param):
    refused(lambda: TOGETHER.build_request(body, "m", TOGETHER_ENDPOINT), param)


def test_together_answer_in_index_order():
    answer = json.dumps({"id": "i", "object": "list", "data": [
        {"index": 1, "b64_json": PNG_B64, "type": "b64_json"}, {"index": 0, "b64_json": JPEG_B64}]}).encode()
    result = TOGETHER.parse_response(answer, "application/json", {"prompt": "x", "response_format": "b64_json"}, "m")
    assert result.answer == {"data": [{"b64_json": JPEG_B64}, {"b64_json": PNG_B64}]}
    assert (result.size, result.quality) == ("1024x1024", None)
    hosted = json.dumps({"data": [{"index": 0, "url": "https://t/x.jpg"}]}).encode()
    result = TOGETHER.parse_response(hosted, "application/json", {"prompt": "x", "size": "512x512"}, "m")
    assert result.answer == {"data": [{"url": "https://t/x.jpg"}]} and result.size == "512x512"


# ---- Imagen ----------------------------------------------------------------------------------------


def test_imagen_request():
    body = {"model": "gemini/imagen-4.0-generate-001", "prompt": "a cat", "n": 3, "size": "1792x1024",
            "output_format": "jpeg", "output_compression": 80, "quality": "hd", "style": "vivid",
            "personGeneration": "dont_allow"}
    request = IMAGEN.build_request(body, "imagen-4.0-generate-001", GEMINI_ENDPOINT)
    assert request.url == "https://generativelanguage.googleapis.com/v1beta/models/imagen-4.0-generate-001:predict"
    assert request.headers["x-goog-api-key"] == "g-key" and "g-key" not in request.url
    assert sent(request) == {"instances": [{"prompt": "a cat"}], "parameters": {
        "sampleCount": 3, "aspectRatio": "16:9", "outputOptions": {"mimeType": "image/jpeg", "compressionQuality": 80},
        "personGeneration": "dont_allow"}}


def test_imagen_base_url_with_version_is_kept():
    request = IMAGEN.build_request({"prompt": "x"}, "models/imagen-4.0-fast-generate-001",
                                   Endpoint("http://emu/gemini/v1beta/", "k"))
    assert request.url == "http://emu/gemini/v1beta/models/imagen-4.0-fast-generate-001:predict"
    assert sent(request) == {"instances": [{"prompt": "x"}], "parameters": {}}


@pytest.mark.parametrize("size, ratio", [("256x256", "1:1"), ("512x512", "1:1"), ("1024x1024", "1:1"),
                                         ("1792x1024", "16:9"), ("1024x1792", "9:16"), ("1024x768", "4:3"),
                                         ("768x1024", "3:4"), ("1280x720", "16:9")])
def test_imagen_aspect_ratios(size, ratio):
    assert sent(IMAGEN.build_request({"prompt": "x", "size": size}, "m", GEMINI_ENDPOINT))["parameters"]["aspectRatio"] == ratio


@pytest.mark.parametrize("body, param", [
    ({"prompt": "x", "size": "1536x1024"}, "size"),  # 3:2, which Imagen does not make
    ({"prompt": "x", "n": 5}, "n"),
    ({"prompt": "x", "output_format": "webp"}, "output_format"),
])
def test_imagen_refusals(body, param):
    refused(lambda: IMAGEN.build_request(body, "m", GEMINI_ENDPOINT), param)


def test_imagen_answer():
    answer = json.dumps({"predictions": [
        {"mimeType": "image/png", "bytesBase64Encoded": PNG_B64, "prompt": "an enhanced cat"},
        {"raiFilteredReason": "filtered"},
        {"mimeType": "image/jpeg", "bytesBase64Encoded": JPEG_B64}]}).encode()
    result = IMAGEN.parse_response(answer, "application/json", {"prompt": "x", "response_format": "url"}, "m")
    assert result.answer == {"data": [{"url": "data:image/png;base64," + PNG_B64, "revised_prompt": "an enhanced cat"},
                                      {"url": "data:image/jpeg;base64," + JPEG_B64}]}
    assert (result.size, result.quality) == ("1024x1024", None)


def test_imagen_everything_filtered_is_content_filter():
    answer = json.dumps({"predictions": [{"raiFilteredReason": "Unable to show generated images."}]}).encode()
    with pytest.raises(UpstreamError) as caught:
        IMAGEN.parse_response(answer, "application/json", {"prompt": "x"}, "m")
    assert caught.value.category is ErrorCategory.CONTENT_FILTER and caught.value.status == 400
    with pytest.raises(UpstreamError) as caught:
        IMAGEN.parse_response(b"{}", "application/json", {"prompt": "x"}, "m")
    assert caught.value.category is ErrorCategory.SERVER_ERROR


def test_imagen_rate_limit_error():
    body = json.dumps({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED"}}).encode()
    error = IMAGEN.parse_error(429, {"retry-after": "3"}, body)
    assert error.category is ErrorCategory.RATE_LIMIT and error.headers["retry-after"] == "3"


# ---- Workers AI ------------------------------------------------------------------------------------


@pytest.mark.parametrize("quality, steps", [(None, 4), ("standard", 4), ("hd", 8), ("high", 8), ("low", 4)])
def test_flux_quality_is_its_steps(quality, steps):
    body = {"prompt": "a cat", "seed": 3}
    if quality:
        body["quality"] = quality
    request = WORKERS_AI.build_request(body, FLUX, CF_ENDPOINT)
    assert request.url == "https://api.cloudflare.com/client/v4/accounts/acc/ai/run/" + FLUX
    assert request.headers["authorization"] == "Bearer cf-token"
    assert sent(request) == {"prompt": "a cat", "steps": steps, "seed": 3}


def test_sdxl_takes_width_and_height():
    body = {"prompt": "a cat", "size": "768x512", "negative_prompt": "dogs", "quality": "hd", "style": "vivid"}
    assert sent(WORKERS_AI.build_request(body, SDXL, CF_ENDPOINT)) == {
        "prompt": "a cat", "width": 768, "height": 512, "negative_prompt": "dogs"}


@pytest.mark.parametrize("model, body, param", [
    (FLUX, {"prompt": "x", "n": 2}, "n"),
    (FLUX, {"prompt": "x", "size": "512x512"}, "size"),
    (SDXL, {"prompt": "x", "size": "128x128"}, "size"),
    (SDXL, {"prompt": "x", "size": "4096x1024"}, "size"),
])
def test_workers_ai_refusals(model, body, param):
    refused(lambda: WORKERS_AI.build_request(body, model, CF_ENDPOINT), param)


def test_flux_json_envelope():
    answer = json.dumps({"result": {"image": JPEG_B64}, "success": True, "errors": [], "messages": []}).encode()
    result = WORKERS_AI.parse_response(answer, "application/json; charset=utf-8", {"prompt": "x", "quality": "hd"}, FLUX)
    assert result.answer == {"data": [{"b64_json": JPEG_B64}]}
    assert (result.size, result.quality) == ("1024x1024", "hd")


def test_sdxl_image_bytes_become_base64_or_a_data_url():
    result = WORKERS_AI.parse_response(PNG, "image/png", {"prompt": "x", "size": "512x512"}, SDXL)
    assert result.answer == {"data": [{"b64_json": PNG_B64}]}
    assert (result.size, result.quality) == ("512x512", None)
    as_url = WORKERS_AI.parse_response(PNG, "application/octet-stream", {"prompt": "x", "response_format": "url"}, SDXL)
    assert as_url.answer == {"data": [{"url": "data:image/png;base64," + PNG_B64}]}
    assert as_url.size == "1024x1024"


def test_workers_ai_empty_answers_are_server_errors():
    for raw, content_type in ((b"", "image/png"), (b'{"result": {}, "success": true}', "application/json")):
        with pytest.raises(UpstreamError) as caught:
            WORKERS_AI.parse_response(raw, content_type, {"prompt": "x"}, FLUX)
        assert caught.value.category is ErrorCategory.SERVER_ERROR


def test_workers_ai_capacity_error_is_rate_limit():
    body = json.dumps({"success": False, "errors": [{"code": 3040, "message": "Capacity temporarily exceeded"}]}).encode()
    assert WORKERS_AI.parse_error(429, {}, body).category is ErrorCategory.RATE_LIMIT


# ---- shared helpers and cost -----------------------------------------------------------------------


@pytest.mark.parametrize("data, media", [(PNG, "image/png"), (JPEG, "image/jpeg"),
                                         (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"), (b"GIF89a..", "image/gif"),
                                         (b"plain", "image/x-fallback")])
def test_sniff_media_type(data, media):
    assert sniff_media_type(data, "image/x-fallback") == media


def test_price_keys_most_specific_first():
    assert image_price_keys("1024x1024", "hd") == ["1024x1024/hd", "1024x1024/*", "*/hd", "*"]
    assert image_price_keys(None, None) == ["*"]
    assert image_price_keys("512x512", None) == ["512x512/*", "*"]


PRICES = {"image_usd": json.dumps({"1024x1024/standard": 0.04, "1024x1024/hd": 0.08, "1792x1024/*": 0.1,
                                   "*/low": 0.01})}


@pytest.mark.parametrize("images, size, quality, cost", [
    (1, "1024x1024", "standard", 0.04),
    (3, "1024x1024", "hd", 0.24),
    (2, "1792x1024", "hd", 0.2),       # <size>/*
    (1, "512x512", "low", 0.01),       # */<quality>
])
def test_image_cost(images, size, quality, cost):
    assert image_cost(images, size, quality, PRICES)[:2] == (pytest.approx(cost), "priced")


def test_image_cost_unpriced_rather_than_guessed():
    assert image_cost(1, "1024x1024", "auto", PRICES)[:2] == (None, "unpriced")
    assert image_cost(1, "1024x1024", "standard", None)[:2] == (None, "unpriced")
    assert image_cost(1, "1024x1024", "standard", {"image_usd": None})[:2] == (None, "unpriced")
    assert image_cost(2, None, None, {"image_usd": {"*": 0.07}})[:2] == (pytest.approx(0.14), "priced")
    assert image_cost(1, None, None, {"image_usd": '{"*": 0.0}'})[:2] == (0.0, "priced")
