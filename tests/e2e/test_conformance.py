"""One conformance suite over the provider registry: every (provider, capability) the registry holds gets
the same checks through the gateway's OpenAI-format front door, against the emulator on that provider's
real path.

Chat: request mapping (what reached the emulator: path, key, upstream model), response mapping (the
emulator's deterministic reply), stream mapping (word by word, a clean end, the usage chunk), error
mapping (429 and context length) and the usage row (provider, tokens, cost from the catalog).
Embeddings: one call, what reached the emulator, and its usage row.
Images: base64 and URL answers against the emulator's image rule, the 429 mapping, and the usage row
(images, size, quality, cost from the catalog's per-image prices).

The parameters come from `registry.all_manifests()` at collection time, never from a list here; each
provider id and its model come from the test gateway's SQLite catalog; each provider's emulator base URL
from the settings the test gateway runs with (`tests/conftest.py`). A provider the registry holds but the
test setup cannot reach fails with what to add.
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import struct
import uuid
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import httpx
import openai
import pytest

from gateway.providers import registry
from gateway.providers.base import ProviderManifest
from gateway.settings import env_prefix
from scripts.emulator import compatible_wire
from scripts.emulator.audio_wire import spoken_audio
from scripts.emulator.images_wire import image_seed, jpeg_bytes, png_bytes
from scripts.emulator.transcription_wire import text_wav
from scripts.emulator.video_wire import reported_cost_usd, video_bytes
from tests.conftest import GatewayServer, gateway_config
from tests.provider_capabilities import provider_capability_pairs

# The custom server that stands for the `openai_compatible` adapter: the emulator's OpenAI routes.
CUSTOM_PROVIDER_ID = "conformance-compat"
CUSTOM_CHAT_MODEL = "Qwen2.5-7B-Instruct"
CUSTOM_EMBEDDING_MODEL = "text-embedding-3-small"
CUSTOM_KEY = "conformance-compat-secret"
# The catalog's modality for each capability the suite checks.
MODALITIES = {"chat": "chat", "embeddings": "embedding", "speech": "tts", "images": "image", "video": "video", "transcription": "stt"}
# The emulator's documented reply rule (scripts/emulator/openai_wire.py, shared by every wire format).
REPLY_PREFIX = "Emulated reply to: "

PAIRS = provider_capability_pairs()


@dataclass(frozen=True)
class Target:
    """One provider as the test gateway reaches it."""

    adapter: str            # registry name
    provider_id: str        # the providers row (prefix of model ids)
    base_url: str           # where the gateway sends it: on the emulator
    api_key: str            # the key the gateway holds for it


@dataclass(frozen=True)
class Model:
    id: str
    upstream: str
    input_price: float | None
    output_price: float | None
    char_price: float | None = None   # text-to-speech: USD per million characters
    image_prices: str | None = None   # image generation: the `image_usd` JSON
    minute_price: float | None = None  # speech-to-text: USD per minute of audio


# ---- fixtures and lookups --------------------------------------------------------------------------


_KEYS: dict[str, str] = {}


def conformance_key(gateway) -> str:
    if gateway.base_url not in _KEYS:
        _KEYS[gateway.base_url] = gateway.create_key(name="conformance")
    return _KEYS[gateway.base_url]


def client_for(gateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gateway.base_url + "/v1", api_key=conformance_key(gateway), max_retries=0)


@pytest.fixture(scope="module")
def custom_gateway(emulator, tmp_path_factory):
    """The `openai_compatible` adapter's stand-in: a custom server on the emulator's OpenAI routes,
    registered with `POST /admin/providers`. It runs on a gateway of its own only because a custom
    server's key is an env setting (`<ID>_API_KEY`) and the emulator wants a key; every built-in
    provider uses the session gateway."""
    config = gateway_config(emulator.base_url, **{f"{env_prefix(CUSTOM_PROVIDER_ID)}_API_KEY": CUSTOM_KEY})
    running = GatewayServer(config, tmp_path_factory.mktemp("conformance") / "gateway.sqlite3").start()
    with running.admin() as admin:
        created = admin.post("/admin/providers", json={"id": CUSTOM_PROVIDER_ID, "base_url": emulator.base_url + "/v1"})
    assert created.status_code == 201, created.text
    yield running
    running.stop()


def catalog(gateway, sql: str, *params) -> list[sqlite3.Row]:
    with sqlite3.connect(gateway.db_path) as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql, params).fetchall()


def builtin_provider_id(gateway, manifest: ProviderManifest) -> str:
    sql = "SELECT id FROM providers WHERE adapter = ? AND kind = 'builtin' ORDER BY id"
    rows = catalog(gateway, sql, manifest.name)
    assert rows, (f"provider {manifest.name!r} is in the registry but has no built-in `providers` row in the "
                  f"catalog: add a migration that inserts it (docs/providers.md, 'Adding a provider')")
    return rows[0]["id"]


def target(gateway, emulator, manifest: ProviderManifest) -> Target:
    config = gateway_config(emulator.base_url)  # what the session gateway runs with
    if manifest.default_base_url is None:  # a custom server: its providers row gives the URL
        assert manifest.name == "openai_compatible", f"{manifest.name!r} needs a base URL; teach this suite how"
        return Target(manifest.name, CUSTOM_PROVIDER_ID, emulator.base_url + "/v1", CUSTOM_KEY)
    provider_id = builtin_provider_id(gateway, manifest)
    prefix = env_prefix(provider_id)
    base_setting = (manifest.env and manifest.env.base_url) or f"{prefix}_BASE_URL"
    key_setting = manifest.env.api_key if manifest.env else f"{prefix}_API_KEY"
    base_url = config.get(base_setting)
    assert base_url and base_url.startswith(emulator.base_url), (
        f"provider {manifest.name!r} has no emulated route in the test gateway's settings ({base_setting} is "
        f"unset): add '{prefix}': '/<its real API path>' to EMULATED_BASE_PATHS in tests/conftest.py and "
        f"teach the emulator its wire format (scripts/emulator/<name>_wire.py)"
    )
    assert config.get(key_setting), f"the test gateway holds no key for {manifest.name!r}: set {key_setting}"
    return Target(manifest.name, provider_id, base_url, config[key_setting])


def catalog_model(gateway, provider_id: str, capability: str) -> Model:
    """The first enabled model of this provider and modality in the seeded catalog (models the emulator
    makes think aloud left out, so the reply rule alone gives the counts)."""
    rows = catalog(
        gateway,
        "SELECT id, upstream_name, input_usd_per_mtok, output_usd_per_mtok, tts_usd_per_mchar, image_usd, stt_usd_per_minute FROM models "
        "WHERE provider_id = ? AND modality = ? AND enabled = 1 ORDER BY id",
        provider_id, MODALITIES[capability],
    )
    rows = [r for r in rows if not compatible_wire.reasons(provider_id, r["upstream_name"])]
    assert rows, f"the catalog has no enabled {MODALITIES[capability]} model for {provider_id!r}: seed one"
    row = rows[0]
    return Model(row["id"], row["upstream_name"], row["input_usd_per_mtok"], row["output_usd_per_mtok"],
                 row["tts_usd_per_mchar"], row["image_usd"], row["stt_usd_per_minute"])


def subject(gateway, emulator, adapter: str, capability: str, request) -> tuple[GatewayServer, Target, Model]:
    """The gateway to call, the provider as it reaches it, and the model to ask for."""
    manifest = registry.get(adapter)
    if manifest.default_base_url is None:
        gateway = request.getfixturevalue("custom_gateway")
        t = target(gateway, emulator, manifest)
        upstream = CUSTOM_CHAT_MODEL if capability == "chat" else CUSTOM_EMBEDDING_MODEL
        return gateway, t, Model(f"{t.provider_id}/{upstream}", upstream, None, None)
    t = target(gateway, emulator, manifest)
    return gateway, t, catalog_model(gateway, t.provider_id, capability)


def marker() -> str:
    return "conf" + uuid.uuid4().hex[:12]


def sent_request(emulator, text: str) -> dict:
    """What the emulator received for the request whose body carries `text`."""
    recorded = httpx.get(emulator.base_url + "/_emulator/requests").json()
    for request in reversed(recorded):
        if text in json.dumps(request["body"]):
            return request
    raise AssertionError(f"no request carrying {text!r} reached the emulator")


def expected_reply(user_text: str) -> str:
    """openai_wire's rule: the prefix plus the last user text (at most 200 characters), words joined by spaces."""
    return " ".join((REPLY_PREFIX + user_text[:200]).split())


def prompt_tokens(*texts: str) -> int:
    """openai_wire's rule: words + 4 per message."""
    return sum(len(t.split()) + 4 for t in texts)


def assert_request_mapped(emulator, t: Target, model: Model, text: str) -> dict:
    sent = sent_request(emulator, text)
    base_path = urlsplit(t.base_url).path
    # A provider may serve an API of another version beside the configured one (Together's /v2 videos).
    sibling = re.sub(r"/v\d+$", "/v", base_path)
    assert sent["path"].startswith(base_path + "/") or (sibling != base_path and re.match(
        re.escape(sibling) + r"\d+/", sent["path"])), f"{t.adapter}: sent to {sent['path']}, not under {base_path}"
    header_values = " ".join(sent["headers"].values())
    assert t.api_key in header_values, f"{t.adapter}: the provider key is not in the request's headers"
    body = sent["body"] if isinstance(sent["body"], dict) else {}
    # The upstream name is the body's model (`model`, ElevenLabs' `model_id`) or part of the path (Gemini, Workers AI).
    assert model.upstream in (body.get("model"), body.get("model_id")) or model.upstream in unquote(sent["path"]), (
        f"{t.adapter}: the upstream model {model.upstream!r} is neither the body's model nor in the path")
    return sent


def expected_cost(model: Model, input_tokens: int, output_tokens: int) -> float | None:
    if model.input_price is None:
        return None
    return (input_tokens * model.input_price + output_tokens * (model.output_price or 0)) / 1_000_000


def free_workers_ai(row: dict, t: Target) -> bool:
    """A Workers AI call within the day's free neurons (the test gateways are far below 10,000): free, with
    its neurons and the note (docs/cost.md). True when the row is one, and checked."""
    if t.provider_id != "workers-ai" or row["cost_status"] == "unpriced":
        return False
    assert (row["cost_status"], row["cost_usd"]) == ("free", 0.0)
    assert row["cost_note"] == "free: within the Workers AI daily free neurons" and row["neurons"] > 0
    return True


def assert_usage_row(gateway, t: Target, model: Model, request_id: str, input_tokens: int, output_tokens: int) -> None:
    row = gateway.usage_row(request_id)
    assert (row["status"], row["provider_id"], row["model_id"]) == ("success", t.provider_id, model.id)
    assert (row["input_tokens"], row["output_tokens"]) == (input_tokens, output_tokens)
    assert row["input_tokens"] > 0
    cost = expected_cost(model, input_tokens, output_tokens)
    if cost is None:
        assert (row["cost_usd"], row["cost_status"]) == (None, "unpriced")
    elif not free_workers_ai(row, t):
        assert row["cost_status"] == "priced"
        assert row["cost_usd"] == pytest.approx(cost, rel=1e-9)


def assert_upstream_rate_limit(gateway, emulator, t: Target, model: Model, tag: str, path: str, body: dict) -> None:
    """The provider's 429 (the emulator's fault, in its own error body) reaches the client as a 429 with
    Retry-After, after the request did reach the provider; the error row names the provider and endpoint."""
    response = httpx.post(gateway.base_url + path, headers={"authorization": f"Bearer {conformance_key(gateway)}"},
                          json=body, timeout=10)
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limit_exceeded"
    assert int(response.headers["retry-after"]) >= 1
    assert_request_mapped(emulator, t, model, tag)
    row = gateway.usage_row(response.headers["x-request-id"])
    assert (row["status"], row["provider_id"], row["http_status"]) == ("error", t.provider_id, 429)
    assert row["endpoint"] == gateway_endpoint(path)


def gateway_endpoint(path: str) -> str:
    """The usage log's endpoint name for a route."""
    return {"/v1/audio/speech": "speech", "/v1/images/generations": "images", "/v1/videos": "video"}[path]


def pairs_for(capability: str) -> list:
    return [pytest.param(adapter, id=adapter) for adapter, cap in PAIRS if cap == capability]


# ---- every provider is reachable -------------------------------------------------------------------


@pytest.mark.parametrize("adapter", [m.name for m in registry.all_manifests()])
def test_every_registered_provider_has_an_emulated_route(adapter, gateway, emulator, request):
    manifest = registry.get(adapter)
    if manifest.default_base_url is None:
        gateway = request.getfixturevalue("custom_gateway")
    t = target(gateway, emulator, manifest)
    assert t.base_url.startswith(emulator.base_url)


@pytest.mark.parametrize(("adapter", "capability"), [pytest.param(a, c, id=f"{a}-{c}") for a, c in PAIRS])
def test_every_capability_has_conformance_checks(adapter, capability):
    assert capability in MODALITIES, (
        f"{adapter} has a {capability!r} adapter but this suite has no checks for it: add its catalog modality "
        f"to MODALITIES and its tests to tests/e2e/test_conformance.py")


# ---- chat ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", pairs_for("chat"))
def test_chat_request_response_and_usage(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "chat", request)
    client = client_for(gateway)
    tag = marker()
    text = f"Say hello {tag} from {adapter}"
    raw = client.chat.completions.with_raw_response.create(model=model.id, messages=[{"role": "user", "content": text}])
    answer = raw.parse()
    # (a) request mapping
    assert_request_mapped(emulator, t, model, tag)
    # (b) response mapping
    reply = expected_reply(text)
    assert answer.choices[0].message.content == reply
    assert answer.choices[0].finish_reason == "stop"
    prompt, completion = prompt_tokens(text), len(reply.split())
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (prompt, completion)
    # (e) usage row
    assert_usage_row(gateway, t, model, raw.headers["x-request-id"], prompt, completion)


@pytest.mark.parametrize("adapter", pairs_for("chat"))
def test_chat_stream_word_by_word_with_usage(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "chat", request)
    client = client_for(gateway)
    tag = marker()
    text = f"Stream please {tag} from {adapter}"
    raw = client.chat.completions.with_raw_response.create(
        model=model.id, messages=[{"role": "user", "content": text}], stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(raw.parse())  # iterating to the end: the SDK raises on an error event or a broken stream
    assert_request_mapped(emulator, t, model, tag)
    reply = expected_reply(text)
    words = reply.split()
    deltas = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert deltas == [w if i == 0 else " " + w for i, w in enumerate(words)]
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    # Exactly one chunk, the last, carries usage: OpenAI's own usage-only chunk (no choices), or, where the
    # provider puts usage on its finish chunk (Groq, Perplexity, Together), that chunk as the provider sent it.
    usage_chunks = [c for c in chunks if c.usage is not None]
    assert len(usage_chunks) == 1 and usage_chunks[0] is chunks[-1]
    prompt, completion = prompt_tokens(text), len(words)
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (prompt, completion)
    assert_usage_row(gateway, t, model, raw.headers["x-request-id"], prompt, completion)


@pytest.mark.parametrize("adapter", pairs_for("chat"))
def test_chat_stream_without_include_usage_has_no_usage_chunk(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "chat", request)
    client = client_for(gateway)
    text = f"Quiet stream {marker()}"
    chunks = list(client.chat.completions.create(model=model.id, messages=[{"role": "user", "content": text}],
                                                 stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == expected_reply(text)
    assert all(c.usage is None for c in chunks)


@pytest.mark.parametrize(("fault", "status", "code"), [
    ("429", 429, "rate_limit_exceeded"),
    ("context-length", 400, "context_length_exceeded"),
])
@pytest.mark.parametrize("adapter", pairs_for("chat"))
def test_chat_error_mapping(adapter, fault, status, code, gateway, emulator, request):
    # Every emulated wire format answers both faults in its provider's own error body (scripts/emulator/*_wire.py).
    gateway, t, model = subject(gateway, emulator, adapter, "chat", request)
    tag = marker()
    response = httpx.post(
        gateway.base_url + "/v1/chat/completions",
        headers={"authorization": f"Bearer {conformance_key(gateway)}"},
        json={"model": model.id, "messages": [{"role": "user", "content": f"{tag} [[emulator:fault={fault}]]"}]},
        timeout=10,
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    if status == 429:
        assert int(response.headers["retry-after"]) >= 1
    assert_request_mapped(emulator, t, model, tag)  # it did reach the provider: the error is the upstream's
    row = gateway.usage_row(response.headers["x-request-id"])
    assert (row["status"], row["provider_id"], row["http_status"]) == ("error", t.provider_id, status)


# ---- embeddings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("adapter", pairs_for("embeddings"))
def test_embeddings_request_response_and_usage(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "embeddings", request)
    client = client_for(gateway)
    tag = marker()
    inputs = [f"first {tag} text", "second text here"]
    raw = client.embeddings.with_raw_response.create(model=model.id, input=inputs)
    answer = raw.parse()
    assert_request_mapped(emulator, t, model, tag)
    assert [item.index for item in answer.data] == [0, 1]
    assert all(len(item.embedding) > 0 and all(isinstance(v, float) for v in item.embedding) for item in answer.data)
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["status"], row["provider_id"], row["model_id"]) == ("success", t.provider_id, model.id)
    assert row["input_tokens"] > 0 and row["output_tokens"] == 0
    cost = expected_cost(model, row["input_tokens"], 0)
    if cost is None:
        assert row["cost_usd"] is None and row["cost_status"] == "unpriced"
    elif not free_workers_ai(row, t):
        assert row["cost_status"] in ("priced", "estimated")  # estimated: the provider gave no counts
        assert row["cost_usd"] == pytest.approx(cost, rel=1e-9)


# ---- speech ----------------------------------------------------------------------------------------


def default_speech_type(adapter: str, model: Model, text: str) -> str:
    """The media type the provider's speech adapter gives a request without response_format."""
    return registry.get(adapter).speech.content_type({"model": model.id, "input": text, "voice": "alloy"})


def assert_emulator_audio(sent: dict, content: bytes) -> None:
    """The answer is the audio the emulator produced for that request (audio_wire.spoken_audio), or — where
    the emulator produced raw PCM (Gemini) and the answer is a WAV file — that PCM as the data chunk of a
    well-formed RIFF/WAVE file (16-bit mono at the PCM's 24 kHz)."""
    fmt, produced = spoken_audio(sent["path"], sent.get("query") or "", sent["body"])
    if content[:4] == b"RIFF" and fmt == "pcm":
        header = struct.unpack("<4sI4s4sIHHIIHH4sI", content[:44])
        assert header == (b"RIFF", len(content) - 8, b"WAVE", b"fmt ", 16, 1, 1, 24000, 48000, 2, 16, b"data",
                          len(produced)), header
        content = content[44:]
    assert content == produced


@pytest.mark.parametrize("adapter", pairs_for("speech"))
def test_speech_request_audio_and_usage(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "speech", request)
    client = client_for(gateway)
    text = f"Read this aloud {marker()}"
    raw = client.audio.speech.with_raw_response.create(model=model.id, input=text, voice="alloy")
    sent = assert_request_mapped(emulator, t, model, text)
    # The SDK sends no response_format: the provider's default format (mp3 where it can make it).
    assert raw.headers["content-type"] == default_speech_type(adapter, model, text)
    assert_emulator_audio(sent, raw.parse().content)
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["status"], row["provider_id"], row["model_id"]) == ("success", t.provider_id, model.id)
    assert json.loads(row["units"]) == {"characters": len(text)}
    if model.char_price is None:
        assert row["cost_status"] == "unpriced"
    elif not free_workers_ai(row, t):
        assert row["cost_status"] == "priced"
        assert row["cost_usd"] == pytest.approx(len(text) * model.char_price / 1_000_000, rel=1e-9)


@pytest.mark.parametrize("adapter", pairs_for("speech"))
def test_speech_streams_the_same_audio(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "speech", request)
    client = client_for(gateway)
    text = f"Stream this aloud {marker()} " + "and some more words " * 20
    with client.audio.speech.with_streaming_response.create(model=model.id, input=text, voice="alloy") as response:
        received = list(response.iter_bytes())
    assert response.headers["content-type"] == default_speech_type(adapter, model, text)
    assert_emulator_audio(sent_request(emulator, text), b"".join(received))
    assert gateway.usage_row(response.headers["x-request-id"])["status"] == "success"


@pytest.mark.parametrize("adapter", pairs_for("speech"))
def test_speech_rate_limit_is_429_with_retry_after(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "speech", request)
    tag = marker()
    body = {"model": model.id, "input": f"{tag} [[emulator:fault=429]]", "voice": "alloy"}
    assert_upstream_rate_limit(gateway, emulator, t, model, tag, "/v1/audio/speech", body)


# ---- images ----------------------------------------------------------------------------------------


def emulated_images(prompt: str, index: int = 0) -> tuple[bytes, bytes]:
    """The two files the emulator's image rule (scripts/emulator/images_wire.py) can make for an image:
    providers answer PNG or JPEG as their documentation says."""
    seed = image_seed(prompt, index)
    return png_bytes(seed), jpeg_bytes(seed)


def documented_image_price(prices: str, size: str | None, quality: str | None) -> float | None:
    """docs/providers.md's lookup: `<size>/<quality>`, `<size>/*`, `*/<quality>`, `*` (None = `*`)."""
    table = json.loads(prices)
    s, q = size or "*", quality or "*"
    for key in (f"{s}/{q}", f"{s}/*", f"*/{q}", "*"):
        key = "*" if key == "*/*" else key
        if key in table:
            return table[key]
    return None


def assert_image_row(gateway, t: Target, model: Model, request_id: str, images: int) -> None:
    row = gateway.usage_row(request_id)
    assert (row["status"], row["endpoint"], row["provider_id"], row["model_id"]) == ("success", "images", t.provider_id, model.id)
    units = json.loads(row["units"])
    assert units["images"] == images
    assert units["size"] in (None, "1024x1024")  # every provider's default is square 1024 (or it does not say)
    price = documented_image_price(model.image_prices, units["size"], units["quality"])
    assert price is not None, f"{model.id}: the catalog has no price for a default request ({units})"
    if price > 0 and free_workers_ai(row, t):
        return
    assert row["cost_status"] == "priced"
    assert row["cost_usd"] == pytest.approx(images * price, rel=1e-9)


@pytest.mark.parametrize("adapter", pairs_for("images"))
def test_images_base64_request_response_and_usage(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "images", request)
    client = client_for(gateway)
    prompt = f"A lighthouse at dawn {marker()}"
    raw = client.images.with_raw_response.generate(model=model.id, prompt=prompt, response_format="b64_json")
    answer = raw.parse()
    assert_request_mapped(emulator, t, model, prompt)
    assert len(answer.data) == 1 and answer.created > 0
    assert base64.b64decode(answer.data[0].b64_json) in emulated_images(prompt)
    assert_image_row(gateway, t, model, raw.headers["x-request-id"], 1)


@pytest.mark.parametrize("adapter", pairs_for("images"))
def test_images_url_is_fetchable_or_a_data_url(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "images", request)
    prompt = f"A fox in the snow {marker()}"
    answer = client_for(gateway).images.generate(model=model.id, prompt=prompt, response_format="url")
    url = answer.data[0].url
    if url.startswith("data:"):  # a provider that only answers bytes: the gateway's data: URL
        header, _, encoded = url.partition(",")
        data = base64.b64decode(encoded)
        assert header == "data:" + ("image/png" if data.startswith(b"\x89PNG") else "image/jpeg") + ";base64"
    else:  # the provider's hosted file
        data = httpx.get(url, timeout=10).content
    assert data in emulated_images(prompt)


@pytest.mark.parametrize("adapter", pairs_for("images"))
def test_images_rate_limit_is_429_with_retry_after(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "images", request)
    tag = marker()
    body = {"model": model.id, "prompt": f"{tag} [[emulator:fault=429]]"}
    assert_upstream_rate_limit(gateway, emulator, t, model, tag, "/v1/images/generations", body)


# ---- video -----------------------------------------------------------------------------------------
# Video jobs (/v1/videos): the create call's mapping, the status lifecycle (the emulator's rule in
# scripts/emulator/video_wire.py: final at the K-th status poll), the content bytes, the failed-job and
# 429 error mappings, and the job's one usage row (seconds × the catalog's USD per second).


def video_price(gateway, model_id: str) -> float | None:
    rows = catalog(gateway, "SELECT video_usd_per_second FROM models WHERE id = ?", model_id)
    return rows[0]["video_usd_per_second"] if rows else None


# Providers whose job answer reports its cost (billed as reported): the emulator's rule in video_wire.
VIDEO_COST_REPORTED = ("xai", "together")


def video_usage_rows(gateway, video_id: str) -> list[sqlite3.Row]:
    return catalog(gateway, "SELECT * FROM usage_log WHERE endpoint = 'video' AND json_extract(tags, '$.video_id') = ?",
                   video_id)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the SDK marks its Sora methods deprecated
@pytest.mark.parametrize("adapter", pairs_for("video"))
def test_video_request_status_content_and_usage(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "video", request)
    client = client_for(gateway)
    tag = marker()
    text = f"A video of {tag} [[emulator:polls=2]]"
    raw = client.videos.with_raw_response.create(model=model.id, prompt=text)
    video = raw.parse()
    assert_request_mapped(emulator, t, model, tag)
    assert (video.status, video.progress, video.model) == ("queued", 0, model.id)
    assert video.id.startswith("video_") and tag not in video.id
    assert [client.videos.retrieve(video.id).status for _ in range(2)] == ["in_progress", "completed"]
    content = client.videos.download_content(video.id)
    assert content.content == video_bytes("video", model.upstream, int(video.seconds), text)
    rows = video_usage_rows(gateway, video.id)
    assert len(rows) == 1
    row = rows[0]
    assert (row["request_id"], row["status"], row["provider_id"], row["model_id"]) == (
        raw.headers["x-request-id"], "success", t.provider_id, model.id)
    assert json.loads(row["units"]) == {"seconds": int(video.seconds)}
    price = video_price(gateway, model.id)
    if adapter in VIDEO_COST_REPORTED:
        assert row["cost_status"] == "priced"
        assert row["cost_usd"] == pytest.approx(reported_cost_usd(int(video.seconds)), rel=1e-9)
    elif price is None:
        assert row["cost_status"] == "unpriced"
    else:
        assert row["cost_status"] == "priced"
        assert row["cost_usd"] == pytest.approx(int(video.seconds) * price, rel=1e-9)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pytest.mark.parametrize("adapter", pairs_for("video"))
def test_video_failed_job_is_mapped_and_not_billed(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "video", request)
    client = client_for(gateway)
    video = client.videos.create(model=model.id, prompt=f"{marker()} [[emulator:polls=1]] [[emulator:fault=video-failed]]")
    failed = client.videos.retrieve(video.id)
    assert failed.status == "failed" and failed.error.code == "moderation_blocked" and failed.error.message
    (row,) = video_usage_rows(gateway, video.id)
    assert (row["status"], row["cost_usd"], row["cost_status"]) == ("error", 0.0, "none")


@pytest.mark.parametrize("adapter", pairs_for("video"))
def test_video_rate_limit_on_create_is_429_with_retry_after(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "video", request)
    tag = marker()
    body = {"model": model.id, "prompt": f"{tag} [[emulator:fault=429]]"}
    assert_upstream_rate_limit(gateway, emulator, t, model, tag, "/v1/videos", body)


# ---- transcription ---------------------------------------------------------------------------------
# Uploads are WAVs whose samples are a sentence's bytes: the emulator's rule (scripts/emulator/
# transcription_wire.py) transcribes them back to that sentence, and their duration is header arithmetic.


def sent_upload(emulator, data: bytes) -> dict:
    """What the emulator received for an upload of `data`: a multipart file (recorded by its SHA-256), or
    JSON carrying it as base64 (Gemini, Workers AI turbo) or as a byte array (Workers AI whisper)."""
    import base64
    import hashlib

    digest, encoded = hashlib.sha256(data).hexdigest(), base64.b64encode(data).decode()
    for sent in reversed(httpx.get(emulator.base_url + "/_emulator/requests").json()):
        body = sent["body"]
        if not isinstance(body, dict):
            continue
        files = body.get("files") or {}
        if any(f.get("sha256") == digest for f in files.values()) or body.get("audio") in (encoded, list(data)) \
                or encoded in json.dumps(body.get("contents", "")):
            return sent
    raise AssertionError("no upload of this audio reached the emulator")


def assert_upload_mapped(emulator, t: Target, model: Model, data: bytes) -> dict:
    sent = sent_upload(emulator, data)
    base_path = urlsplit(t.base_url).path
    assert sent["path"].startswith(base_path + "/"), f"{t.adapter}: sent to {sent['path']}, not under {base_path}"
    assert t.api_key in " ".join(sent["headers"].values()), f"{t.adapter}: the provider key is not in the headers"
    fields = sent["body"].get("fields") or {}
    named = (fields.get("model") or fields.get("model_id") or [None])[0]
    upstream = model.upstream.removeprefix("models/")  # Gemini's resource name: the path names the bare model
    assert named == upstream or upstream in unquote(sent["path"]), (
        f"{t.adapter}: the upstream model {upstream!r} is neither the form's model nor in the path")
    return sent


@pytest.mark.parametrize("adapter", pairs_for("transcription"))
def test_transcription_request_response_and_usage(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "transcription", request)
    sentence = f"Conformance check {marker()}. Second sentence here."
    data = text_wav(sentence, 2.5)
    raw = client_for(gateway).audio.transcriptions.with_raw_response.create(
        file=("conformance.wav", data, "audio/wav"), model=model.id)
    assert_upload_mapped(emulator, t, model, data)
    assert raw.headers["content-type"] == "application/json"
    assert raw.parse().text == sentence
    row = gateway.usage_row(raw.headers["x-request-id"])
    assert (row["status"], row["endpoint"], row["provider_id"], row["model_id"]) == \
        ("success", "transcription", t.provider_id, model.id)
    seconds = json.loads(row["units"])["seconds"]
    assert seconds in (2.5, 3)  # the audio's length, or OpenAI whisper's billed whole seconds
    if free_workers_ai(row, t):
        pass
    elif row["input_tokens"] and model.input_price is not None:
        assert row["cost_usd"] == pytest.approx(expected_cost(model, row["input_tokens"], row["output_tokens"]), rel=1e-9)
    elif model.minute_price is not None:
        assert row["cost_usd"] == pytest.approx(seconds / 60 * model.minute_price, abs=1e-9)  # stored to 1e-10 USD
    else:
        assert row["cost_status"] == "unpriced"


@pytest.mark.parametrize("adapter", pairs_for("transcription"))
def test_transcription_text_format(adapter, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "transcription", request)
    sentence = f"Plain text please {marker()}."
    text = client_for(gateway).audio.transcriptions.create(
        file=("t.wav", text_wav(sentence, 1.0), "audio/wav"), model=model.id, response_format="text")
    assert text == sentence + "\n"


@pytest.mark.parametrize(("fault", "status", "code"), [
    ("429", 429, "rate_limit_exceeded"), ("401", 502, "upstream_auth_failed"),
])
@pytest.mark.parametrize("adapter", pairs_for("transcription"))
def test_transcription_error_mapping(adapter, fault, status, code, gateway, emulator, request):
    gateway, t, model = subject(gateway, emulator, adapter, "transcription", request)
    data = text_wav(f"{marker()} [[emulator:fault={fault}]]", 1.0)
    response = httpx.post(
        gateway.base_url + "/v1/audio/transcriptions",
        headers={"authorization": f"Bearer {conformance_key(gateway)}"},
        data={"model": model.id}, files={"file": ("f.wav", data, "audio/wav")}, timeout=10,
    )
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    if status == 429:
        assert int(response.headers["retry-after"]) >= 1
    assert_upload_mapped(emulator, t, model, data)
    row = gateway.usage_row(response.headers["x-request-id"])
    assert (row["status"], row["provider_id"], row["http_status"], row["units"]) == ("error", t.provider_id, status, None)
