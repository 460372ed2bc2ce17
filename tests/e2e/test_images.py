"""The official OpenAI SDK against POST /v1/images/generations: OpenAI (dall-e, gpt-image), xAI, Together AI,
Imagen and Workers AI (FLUX's JSON, Stable Diffusion's image bytes) through the emulator; base64 and URL
answers checked against the emulator's image rule (scripts/emulator/images_wire.py), what reached each
provider, usage rows (images, size, quality, cost), validation and upstream errors."""

from __future__ import annotations

import base64
import json
import uuid

import httpx
import openai
import pytest

from scripts.emulator.images_wire import image_bytes, revised_prompt
from tests.conftest import CLOUDFLARE_API_TOKEN, provider_key

# The format each emulated provider answers in (images_wire's documented rule).
FORMATS = {
    "openai/dall-e-2": "png",
    "openai/dall-e-3": "png",
    "openai/gpt-image-1": "png",
    "openai/gpt-image-1-mini": "png",
    "xai/grok-2-image": "jpeg",
    "together/black-forest-labs/FLUX.1-schnell": "jpeg",
    "together/black-forest-labs/FLUX.1.1-pro": "jpeg",
    "gemini/imagen-4.0-generate-001": "png",
    "gemini/imagen-4.0-ultra-generate-001": "png",
    "workers-ai/@cf/black-forest-labs/flux-1-schnell": "jpeg",
    "workers-ai/@cf/stabilityai/stable-diffusion-xl-base-1.0": "png",
}
MEDIA = {"png": "image/png", "jpeg": "image/jpeg"}


@pytest.fixture(scope="module")
def client(gateway, api_key) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=api_key, max_retries=0)


def unique(text: str) -> str:
    return f"{text} {uuid.uuid4().hex[:10]}"


def sent_with(emulator, text: str) -> dict:
    for request in reversed(httpx.get(emulator.base_url + "/_emulator/requests").json()):
        if text in json.dumps(request["body"]):
            return request
    raise AssertionError(f"no request carrying {text!r} reached the emulator")


def post(client: openai.OpenAI, body: dict) -> httpx.Response:
    return httpx.post(str(client.base_url) + "images/generations", json=body,
                      headers={"authorization": f"Bearer {client.api_key}"}, timeout=10)


@pytest.mark.parametrize("model", list(FORMATS))
def test_b64_json_is_the_providers_image(client, model):
    prompt = unique("a red bicycle")
    raw = client.images.with_raw_response.generate(model=model, prompt=prompt, response_format="b64_json")
    answer = raw.parse()
    assert raw.headers["x-gateway-model"] == model
    assert answer.created > 0 and len(answer.data) == 1
    assert base64.b64decode(answer.data[0].b64_json) == image_bytes(prompt, 0, FORMATS[model])


@pytest.mark.parametrize("model", ["openai/dall-e-3", "xai/grok-2-image", "together/black-forest-labs/FLUX.1-schnell"])
def test_url_is_the_providers_hosted_file(client, model):
    prompt = unique("a lighthouse")
    item = client.images.generate(model=model, prompt=prompt, response_format="url").data[0]
    assert item.url.startswith("http://127.0.0.1:") and item.b64_json is None
    assert httpx.get(item.url).content == image_bytes(prompt, 0, FORMATS[model])


@pytest.mark.parametrize("model", ["openai/gpt-image-1", "gemini/imagen-4.0-generate-001",
                                   "workers-ai/@cf/black-forest-labs/flux-1-schnell",
                                   "workers-ai/@cf/stabilityai/stable-diffusion-xl-base-1.0"])
def test_url_from_a_bytes_only_provider_is_a_data_url(client, model):
    prompt = unique("a lighthouse")
    url = client.images.generate(model=model, prompt=prompt, response_format="url").data[0].url
    fmt = FORMATS[model]
    assert url == f"data:{MEDIA[fmt]};base64," + base64.b64encode(image_bytes(prompt, 0, fmt)).decode()


def test_dall_e_answers_a_url_by_default_with_revised_prompt(client):
    prompt = unique("a castle")
    item = client.images.generate(model="dall-e-3", prompt=prompt).data[0]
    assert item.url.endswith(".png") and item.revised_prompt == revised_prompt(prompt)


def test_several_images_billed_each(client, gateway):
    prompt = unique("three cats")
    raw = client.images.with_raw_response.generate(model="openai/dall-e-2", prompt=prompt, n=3, size="512x512",
                                                    response_format="b64_json")
    data = raw.parse().data
    assert [base64.b64decode(d.b64_json) for d in data] == [image_bytes(prompt, i, "png") for i in range(3)]
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert row["endpoint"] == "images" and row["model_id"] == "openai/dall-e-2"
    assert json.loads(row["units"]) == {"images": 3, "size": "512x512", "quality": "standard"}
    assert (row["cost_usd"], row["cost_status"]) == (pytest.approx(3 * 0.018), "priced")
    assert (row["input_tokens"], row["output_tokens"]) == (0, 0)


@pytest.mark.parametrize("model, kwargs, units, cost", [
    ("openai/dall-e-3", {"size": "1792x1024", "quality": "hd"}, {"size": "1792x1024", "quality": "hd"}, 0.12),
    ("openai/gpt-image-1", {}, {"size": "1024x1024", "quality": "medium"}, 0.042),  # auto: the answer says medium
    ("openai/gpt-image-1-mini", {"quality": "high", "size": "1536x1024"}, {"size": "1536x1024", "quality": "high"}, 0.052),
    ("gemini/imagen-4.0-ultra-generate-001", {"size": "1024x1792"}, {"size": "1024x1792", "quality": None}, 0.06),
    ("together/black-forest-labs/FLUX.1.1-pro", {"size": "512x512"}, {"size": "512x512", "quality": None}, 0.01),
    ("xai/grok-2-image", {}, {"size": None, "quality": None}, 0.07),
    ("workers-ai/@cf/black-forest-labs/flux-1-schnell", {}, {"size": "1024x1024", "quality": "standard"}, 0.000652),
    ("workers-ai/@cf/stabilityai/stable-diffusion-xl-base-1.0", {}, {"size": "1024x1024", "quality": None}, 0.0),
])
def test_usage_row_per_image_price(client, gateway, model, kwargs, units, cost):
    raw = client.images.with_raw_response.generate(model=model, prompt=unique("priced"), response_format="b64_json",
                                                    **kwargs)
    raw.parse()
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert json.loads(row["units"]) == {"images": 1, **units}
    if model.startswith("workers-ai/") and cost > 0:
        # Within the day's free Workers AI neurons (docs/cost.md): free; the catalog's USD price in neurons.
        assert (row["cost_status"], row["cost_usd"]) == ("free", 0.0)
        assert row["neurons"] == pytest.approx(cost / (0.011 / 1000), rel=1e-3)
    else:
        assert row["cost_status"] == "priced" and row["cost_usd"] == pytest.approx(cost)


def test_a_size_without_a_price_is_unpriced(client, gateway):
    # gpt-image-1 makes 1792x1024 in the emulator, but the catalog has no price for it: no guess.
    raw = client.images.with_raw_response.generate(model="openai/gpt-image-1", prompt=unique("wide"), size="1792x1024")
    raw.parse()
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["status"], row["cost_usd"], row["cost_status"]) == ("success", None, "unpriced")
    assert row["cost_note"].startswith("no image price for 1792x1024/")  # the reason names what is missing


# ---- what reached the providers --------------------------------------------------------------------


def test_gpt_image_request_leaves_out_response_format(client, emulator):
    prompt = unique("an owl")
    client.images.generate(model="gpt-image-1", prompt=prompt, response_format="url", quality="low",
                           output_format="jpeg", background="opaque")
    sent = sent_with(emulator, prompt)
    assert sent["path"] == "/v1/images/generations"
    assert sent["body"] == {"model": "gpt-image-1", "prompt": prompt, "quality": "low", "output_format": "jpeg",
                            "background": "opaque"}


def test_together_request(client, emulator):
    prompt = unique("a boat")
    client.images.generate(model="together/black-forest-labs/FLUX.1-schnell", prompt=prompt, n=2, size="1024x768",
                           response_format="b64_json", quality="hd", extra_body={"steps": 4})
    sent = sent_with(emulator, prompt)
    assert sent["path"] == "/together/v1/images/generations"
    assert sent["headers"]["Authorization"] == "Bearer " + provider_key("TOGETHER")
    assert sent["body"] == {"model": "black-forest-labs/FLUX.1-schnell", "prompt": prompt, "n": 2, "width": 1024,
                            "height": 768, "response_format": "base64", "steps": 4}


def test_imagen_request(client, emulator):
    prompt = unique("a mountain")
    data = client.images.generate(model="gemini/imagen-4.0-generate-001", prompt=prompt, n=2, size="1792x1024",
                                  output_format="jpeg", response_format="b64_json").data
    sent = sent_with(emulator, prompt)
    assert sent["path"] == "/gemini/v1beta/models/imagen-4.0-generate-001:predict"
    assert sent["headers"]["x-goog-api-key"] == provider_key("GEMINI")
    assert sent["body"] == {"instances": [{"prompt": prompt}],
                            "parameters": {"sampleCount": 2, "aspectRatio": "16:9", "outputOptions": {"mimeType": "image/jpeg"}}}
    assert [base64.b64decode(d.b64_json) for d in data] == [image_bytes(prompt, i, "jpeg") for i in range(2)]


@pytest.mark.parametrize("model, kwargs, inputs", [
    ("workers-ai/@cf/black-forest-labs/flux-1-schnell", {"quality": "hd"}, {"steps": 8}),
    ("workers-ai/@cf/stabilityai/stable-diffusion-xl-base-1.0", {"size": "768x512"}, {"width": 768, "height": 512}),
])
def test_workers_ai_request(client, emulator, model, kwargs, inputs):
    prompt = unique("a forest")
    client.images.generate(model=model, prompt=prompt, **kwargs)
    sent = sent_with(emulator, prompt)
    assert sent["path"] == "/cloudflare/client/v4/accounts/test-account-id/ai/run/" + model.partition("/")[2]
    assert sent["headers"]["Authorization"] == "Bearer " + CLOUDFLARE_API_TOKEN
    assert sent["body"] == {"prompt": prompt, **inputs}


# ---- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("body, param", [
    ({"model": "dall-e-3"}, "prompt"),
    ({"model": "dall-e-3", "prompt": ""}, "prompt"),
    ({"prompt": "a cat"}, "model"),
    ({"model": "dall-e-2", "prompt": "a cat", "n": 0}, "n"),
    ({"model": "dall-e-2", "prompt": "a cat", "n": 11}, "n"),
    ({"model": "dall-e-2", "prompt": "a cat", "n": "2"}, "n"),
    ({"model": "dall-e-2", "prompt": "a cat", "response_format": "png"}, "response_format"),
    ({"model": "dall-e-3", "prompt": "a cat", "style": "bold"}, "style"),
    ({"model": "gpt-image-1", "prompt": "a cat", "output_compression": 101}, "output_compression"),
])
def test_validation_400_names_the_field(client, body, param):
    response = post(client, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_chat_model_is_400_naming_model(client):
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model="openai/gpt-4o-mini", prompt="a cat")
    assert (caught.value.body["param"], caught.value.body["code"]) == ("model", "model_not_supported")


def test_unknown_model_is_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.images.generate(model="no-such-image-model", prompt="a cat")
    assert caught.value.body["param"] == "model"


@pytest.mark.parametrize("model, kwargs, param", [
    ("xai/grok-2-image", {"size": "1024x1024"}, "size"),
    ("gemini/imagen-4.0-generate-001", {"size": "1536x1024"}, "size"),
    ("gemini/imagen-4.0-generate-001", {"n": 5}, "n"),
    ("together/black-forest-labs/FLUX.1-schnell", {"output_format": "webp"}, "output_format"),
    ("workers-ai/@cf/black-forest-labs/flux-1-schnell", {"n": 2}, "n"),
    ("workers-ai/@cf/black-forest-labs/flux-1-schnell", {"size": "512x512"}, "size"),
])
def test_what_a_provider_cannot_make_is_400_never_sent(client, emulator, model, kwargs, param):
    prompt = unique("refused")
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(model=model, prompt=prompt, **kwargs)
    assert caught.value.body["param"] == param
    with pytest.raises(AssertionError):
        sent_with(emulator, prompt)


@pytest.mark.parametrize("model", ["openai/dall-e-3", "gemini/imagen-4.0-generate-001",
                                   "workers-ai/@cf/stabilityai/stable-diffusion-xl-base-1.0"])
def test_upstream_429_is_429_with_retry_after(client, gateway, model):
    with pytest.raises(openai.RateLimitError) as caught:
        client.images.generate(model=model, prompt="[[emulator:fault=429]] a cat")
    assert caught.value.status_code == 429
    assert int(caught.value.response.headers["retry-after"]) >= 1
    row = gateway.usage_row(caught.value.response.headers["x-request-id"])
    assert (row["endpoint"], row["status"], row["error_type"], row["http_status"]) == ("images", "error", "rate_limit", 429)
    assert row["units"] is None


@pytest.mark.parametrize("model, status", [("openai/dall-e-2", 502), ("together/black-forest-labs/FLUX.1-schnell", 502)])
def test_upstream_auth_failure_and_reset_are_502(client, model, status):
    for fault in ("401", "reset"):
        with pytest.raises(openai.APIStatusError) as caught:
            client.images.generate(model=model, prompt=f"[[emulator:fault={fault}]] a cat")
        assert caught.value.status_code == status


def test_upstream_model_not_found_is_404(client):
    with pytest.raises(openai.NotFoundError):
        client.images.generate(model="gemini/imagen-4.0-fast-generate-001", prompt="[[emulator:fault=model-not-found]] x")


def test_openapi_documents_the_route(gateway):
    operation = httpx.get(gateway.base_url + "/openapi.json").json()["paths"]["/v1/images/generations"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"model", "prompt"}
    assert "response_format" in schema["properties"] and "429" in operation["responses"]


def test_get_is_405(gateway, api_key):
    response = httpx.get(gateway.base_url + "/v1/images/generations", headers={"authorization": f"Bearer {api_key}"})
    assert response.status_code == 405 and response.headers["allow"] == "POST"
