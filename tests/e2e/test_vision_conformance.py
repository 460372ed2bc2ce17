"""Image parts in chat for every vision-capable model of the catalog, whatever its provider: the official
OpenAI SDK sends a `data:` base64 image part and, separately, an https image part; what reached the emulator
must carry the image in that provider's documented form — or, where the provider cannot take an https URL
(Workers AI: its schemas say "HTTP URL will not be accepted"; a transform does no I/O), the answer is a 400
naming the part and nothing reaches the provider. A text-only model given an image part is a 400 naming the
part, before any upstream call.

The models are every `supports_vision = 1` row the migrations seed (the test gateway's catalog: checked
against its SQLite file too); the expected form is looked up by the provider's adapter, so a vision model of
a provider this suite does not know fails with what to add.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from pathlib import Path

import httpx
import openai
import pytest

from tests.e2e.test_conformance import catalog, conformance_key, expected_reply

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"
PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 24).decode()
DATA_URL = f"data:image/png;base64,{PNG}"
HTTPS_URL = "https://images.example.com/cat.png"


def seeded_vision_models() -> list[tuple[str, str]]:
    """(model id, adapter) of every enabled vision chat model the migrations seed."""
    db = sqlite3.connect(":memory:")
    for path in sorted(MIGRATIONS.glob("*.sql")):
        db.executescript(path.read_text())
    rows = db.execute(
        "SELECT m.id, p.adapter FROM models m JOIN providers p ON p.id = m.provider_id "
        "WHERE m.supports_vision = 1 AND m.enabled = 1 AND m.modality = 'chat' ORDER BY m.id").fetchall()
    db.close()
    return rows


VISION_MODELS = seeded_vision_models()


# Each wire format's documented image forms: (the form of the data: image, the form of the https image), as
# found in what the provider received; None for the https form = the provider cannot take it (400).
def _openai(body: dict) -> list:
    return [p.get("image_url") for p in body["messages"][-1]["content"] if p.get("type") == "image_url"]


def _anthropic(body: dict) -> list:
    return [b["source"] for b in body["messages"][-1]["content"] if b.get("type") == "image"]


def _gemini(body: dict) -> list:
    return [p.get("inlineData") or p.get("fileData") for p in body["contents"][-1]["parts"]
            if "inlineData" in p or "fileData" in p]


OPENAI_FORMS = (_openai, [{"url": DATA_URL}], [{"url": HTTPS_URL}])
FORMS = {
    # OpenAI's format (passed through as sent; `detail` kept by those that pass the part as it is).
    "openai": OPENAI_FORMS, "xai": OPENAI_FORMS, "groq": OPENAI_FORMS, "together": OPENAI_FORMS,
    "perplexity": OPENAI_FORMS, "deepseek": OPENAI_FORMS, "openai_compatible": OPENAI_FORMS,
    # Anthropic: image blocks with a base64 or url source.
    "anthropic": (_anthropic, [{"type": "base64", "media_type": "image/png", "data": PNG}],
                  [{"type": "url", "url": HTTPS_URL}]),
    # Gemini: inlineData for data:, fileData (mime type from the extension) for a URL.
    "gemini": (_gemini, [{"mimeType": "image/png", "data": PNG}], [{"fileUri": HTTPS_URL, "mimeType": "image/png"}]),
    # Workers AI: image_url parts with data: URLs; an https URL cannot be fetched upstream.
    "workers_ai": (_openai, [{"url": DATA_URL}], None),
}


def sent_with(emulator, text: str) -> dict | None:
    for request in reversed(httpx.get(emulator.base_url + "/_emulator/requests").json()):
        if text in json.dumps(request["body"]):
            return request
    return None


def ask(gateway, model: str, text: str, url: str):
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=conformance_key(gateway), max_retries=0)
    return client.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": [
        {"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}]}])


def test_the_catalog_has_vision_models_of_every_kind():
    adapters = {adapter for _, adapter in VISION_MODELS}
    assert {"openai", "anthropic", "gemini", "xai", "groq", "together", "perplexity", "workers_ai"} <= adapters


@pytest.mark.parametrize(("model", "adapter"), [pytest.param(m, a, id=m) for m, a in VISION_MODELS])
def test_image_parts_reach_the_provider_in_its_form(model, adapter, gateway, emulator):
    assert catalog(gateway, "SELECT supports_vision FROM models WHERE id = ?", model)[0][0] == 1
    assert adapter in FORMS, f"{model}: teach this suite the image form of the {adapter!r} wire format"
    images_of, data_form, https_form = FORMS[adapter]

    text = f"Describe this {uuid.uuid4().hex[:10]}"
    raw = ask(gateway, model, text, DATA_URL)
    assert raw.parse().choices[0].message.content == expected_reply(text)  # the emulator's reply rule holds
    sent = sent_with(emulator, text)
    assert sent is not None and images_of(sent["body"]) == data_form

    text = f"And this one {uuid.uuid4().hex[:10]}"
    if https_form is None:
        with pytest.raises(openai.BadRequestError) as raised:
            ask(gateway, model, text, HTTPS_URL)
        assert raised.value.body["param"].startswith("messages[0].content[1]")
        assert sent_with(emulator, text) is None  # refused before any upstream call
        return
    raw = ask(gateway, model, text, HTTPS_URL)
    assert raw.parse().choices[0].message.content == expected_reply(text)
    assert images_of(sent_with(emulator, text)["body"]) == https_form


@pytest.mark.parametrize("model", ["deepseek/deepseek-chat", "workers-ai/@cf/meta/llama-3.1-8b-instruct",
                                   "xai/grok-3-mini"])
def test_a_text_only_model_refuses_an_image_part_before_calling_upstream(model, gateway, emulator):
    assert catalog(gateway, "SELECT supports_vision FROM models WHERE id = ?", model)[0][0] == 0
    text = f"No eyes here {uuid.uuid4().hex[:10]}"
    response = httpx.post(gateway.base_url + "/v1/chat/completions",
                          headers={"authorization": f"Bearer {conformance_key(gateway)}"},
                          json={"model": model, "messages": [
                              {"role": "system", "content": "Be brief."},
                              {"role": "user", "content": [{"type": "text", "text": text},
                                                           {"type": "image_url", "image_url": {"url": DATA_URL}}]}]},
                          timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["param"], error["code"]) == ("messages[1].content[1]", "model_not_supported")
    assert sent_with(emulator, text) is None
    row = gateway.usage_row(response.headers["x-request-id"])
    assert (row["status"], row["http_status"]) == ("error", 400)


def test_a_text_only_model_takes_text_parts(gateway):
    client = openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=conformance_key(gateway), max_retries=0)
    text = f"Only text parts {uuid.uuid4().hex[:10]}"
    answer = client.chat.completions.create(model="deepseek/deepseek-chat", messages=[
        {"role": "user", "content": [{"type": "text", "text": text}]}])
    assert answer.choices[0].message.content == expected_reply(text)


def test_the_messages_ingress_refuses_an_image_for_a_text_only_model(gateway, emulator):
    # /v1/messages runs the same chat pipeline on the translated request: the part is named in the OpenAI
    # request it became (here the same position: no system prompt, one user message).
    text = f"Anthropic client {uuid.uuid4().hex[:10]}"
    response = httpx.post(gateway.base_url + "/v1/messages",
                          headers={"x-api-key": conformance_key(gateway), "anthropic-version": "2023-06-01"},
                          json={"model": "deepseek/deepseek-chat", "max_tokens": 50, "messages": [
                              {"role": "user", "content": [
                                  {"type": "text", "text": text},
                                  {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                               "data": PNG}}]}]},
                          timeout=10)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and "messages[0].content[1]" in error["message"]
    assert sent_with(emulator, text) is None
