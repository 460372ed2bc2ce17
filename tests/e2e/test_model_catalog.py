"""The model catalog's admin API over HTTP (docs/catalog.md): reads for any admin principal, writes for the
system, price history on every price change, and a price refresh (dry run, then apply) whose new price bills
the very next chat request. Its own gateway and database: these tests change prices other tests rely on."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import openai
import pytest

from tests.conftest import GatewayServer, gateway_config

FIXTURES = Path(__file__).resolve().parents[1] / "unit" / "fixtures"


@pytest.fixture(scope="module")
def gw(emulator, tmp_path_factory):
    server = GatewayServer(gateway_config(emulator.base_url), tmp_path_factory.mktemp("catalog") / "gateway.sqlite3")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def user_key(gw):
    """A plain user's key: an admin principal, but not the system."""
    with gw.admin() as admin:
        user = admin.post("/admin/users", json={"email": "reader@example.com"})
        assert user.status_code == 201, user.text
    return gw.create_key(user_id=user.json()["id"])


def chat_cost(gw, key, model):
    client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0)
    raw = client.chat.completions.with_raw_response.create(model=model, messages=[{"role": "user", "content": "price me"}])
    return gw.usage_row(raw.headers["x-request-id"])


def test_listing_filters_by_modality_provider_and_enabled(gw):
    with gw.admin() as admin:
        everything = admin.get("/admin/models").json()["data"]
        speech = admin.get("/admin/models", params={"modality": "tts"}).json()["data"]
        anthropic = admin.get("/admin/models", params={"provider": "anthropic", "enabled": "true"}).json()["data"]
        disabled = admin.get("/admin/models", params={"enabled": "false"}).json()["data"]
    rows = gw.sql("SELECT id, modality, provider_id, enabled FROM models")
    assert len(everything) == len(rows)
    assert {m["id"] for m in speech} == {r["id"] for r in rows if r["modality"] == "tts"} != set()
    assert {m["id"] for m in anthropic} == {r["id"] for r in rows if r["provider_id"] == "anthropic" and r["enabled"]}
    assert {m["id"] for m in disabled} == {r["id"] for r in rows if not r["enabled"]}
    assert all(m["enabled"] is False for m in disabled)


def test_one_model_shows_every_catalog_column(gw):
    with gw.admin() as admin:
        model = admin.get("/admin/models/openai/gpt-4.1").json()
        missing = admin.get("/admin/models/openai/no-such-model")
    assert (model["id"], model["modality"], model["input_usd_per_mtok"], model["supports_vision"]) == \
        ("openai/gpt-4.1", "chat", 2.0, True)
    assert {"context_window", "max_output_tokens", "neurons_per_mtok_input", "quality_score", "speed_score",
            "score_source", "price_version", "image_usd"} <= set(model)
    assert missing.status_code == 404 and missing.json()["error"]["param"] == "model_id"


def test_any_admin_principal_reads_only_the_system_writes(gw, user_key, api_key_for_app):
    user = {"authorization": f"Bearer {user_key}"}
    assert httpx.get(gw.base_url + "/admin/models/openai/gpt-4.1", headers=user).status_code == 200
    patch = httpx.patch(gw.base_url + "/admin/models/openai/gpt-4.1", json={"quality_score": 1}, headers=user)
    assert patch.status_code == 403 and patch.json()["error"]["code"] == "system_admin_only"
    refresh = httpx.post(gw.base_url + "/admin/catalog/refresh", json={"source": "litellm", "data": {}}, headers=user)
    assert refresh.status_code == 403
    app = httpx.get(gw.base_url + "/admin/models", headers={"authorization": f"Bearer {api_key_for_app}"})
    assert app.status_code == 403  # a key without a user is no admin principal
    assert gw.sql("SELECT quality_score FROM models WHERE id = 'openai/gpt-4.1'")[0]["quality_score"] == 8.5


@pytest.fixture(scope="module")
def api_key_for_app(gw):
    return gw.create_key(name="app")


def test_patch_price_bumps_the_version_records_history_and_bills_the_next_request(gw, user_key):
    key = gw.create_key(name="patch-billing")
    with gw.admin() as admin:
        before = admin.get("/admin/models/openai/gpt-4.1-nano").json()
        updated = admin.patch("/admin/models/openai/gpt-4.1-nano",
                              json={"input_usd_per_mtok": 1.0, "output_usd_per_mtok": 3.0, "speed_score": 9.5})
        history = admin.get("/admin/models/openai/gpt-4.1-nano/prices").json()["data"]
        scores_only = admin.patch("/admin/models/openai/gpt-4.1-nano", json={"quality_score": 6.5}).json()
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert (body["input_usd_per_mtok"], body["output_usd_per_mtok"], body["speed_score"]) == (1.0, 3.0, 9.5)
    assert body["price_version"] == before["price_version"] + 1
    assert [(h["price_version"], h["source"]) for h in history] == [(1, "seed"), (2, "admin")]
    assert history[-1]["prices"]["output_usd_per_mtok"] == 3.0
    assert scores_only["price_version"] == 2 and scores_only["quality_score"] == 6.5  # no price: no new version
    row = chat_cost(gw, key, "openai/gpt-4.1-nano")
    assert row["price_version"] == 2
    expected = (row["input_tokens"] - row["cached_input_tokens"]) * 1.0 / 1e6 + row["cached_input_tokens"] * 0.025 / 1e6 \
        + row["output_tokens"] * 3.0 / 1e6
    assert row["cost_usd"] == pytest.approx(expected) and row["cost_usd"] > 0


@pytest.mark.parametrize("body, param", [
    ({"input_usd_per_mtok": -1}, "input_usd_per_mtok"),
    ({"quality_score": 11}, "quality_score"),
    ({"enabled": None}, "enabled"),
    ({"prices": 1}, "prices"),
    ({"context_window": 0}, "context_window"),
])
def test_patch_refuses_bad_fields_naming_them_and_writes_nothing(gw, body, param):
    before = gw.sql("SELECT * FROM models WHERE id = 'openai/gpt-4.1'")
    with gw.admin() as admin:
        response = admin.patch("/admin/models/openai/gpt-4.1", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param
    assert gw.sql("SELECT * FROM models WHERE id = 'openai/gpt-4.1'") == before


def test_disabling_a_model_takes_effect_at_once(gw):
    """A disabled model leaves /v1/models and bare-name resolution on the next request (the cache is dropped)."""
    key = gw.create_key(name="disable")
    client = openai.OpenAI(base_url=gw.base_url + "/v1", api_key=key, max_retries=0)
    message = [{"role": "user", "content": "x"}]
    assert client.chat.completions.create(model="gpt-5-nano", messages=message).choices
    with gw.admin() as admin:
        assert admin.patch("/admin/models/openai/gpt-5-nano", json={"enabled": False}).json()["enabled"] is False
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(model="gpt-5-nano", messages=message)
        assert "openai/gpt-5-nano" not in {m.id for m in client.models.list()}
        assert admin.patch("/admin/models/openai/gpt-5-nano", json={"enabled": True}).status_code == 200
    assert client.chat.completions.create(model="gpt-5-nano", messages=message).choices


def test_add_a_model_to_an_existing_provider_and_use_it(gw):
    key = gw.create_key(name="added")
    new = {"provider_id": "openai", "upstream_name": "gpt-4o-mini-2024-07-18", "modality": "chat",
           "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6, "context_window": 128000, "supports_tools": True}
    with gw.admin() as admin:
        created = admin.post("/admin/models", json=new)
        duplicate = admin.post("/admin/models", json=new)
        unknown = admin.post("/admin/models", json={**new, "provider_id": "nowhere"})
        bad_modality = admin.post("/admin/models", json={**new, "upstream_name": "x", "modality": "telepathy"})
    assert created.status_code == 201, created.text
    assert (created.json()["id"], created.json()["price_version"], created.json()["supports_tools"]) == \
        ("openai/gpt-4o-mini-2024-07-18", 1, True)
    assert duplicate.status_code == 409 and duplicate.json()["error"]["param"] == "upstream_name"
    assert unknown.status_code == 400 and unknown.json()["error"]["param"] == "provider_id"
    assert bad_modality.status_code == 400 and bad_modality.json()["error"]["param"] == "modality"
    assert gw.sql("SELECT source FROM model_price_history WHERE model_id = 'openai/gpt-4o-mini-2024-07-18'") == \
        [{"source": "admin"}]
    row = chat_cost(gw, key, "openai/gpt-4o-mini-2024-07-18")
    assert row["cost_usd"] == pytest.approx((row["input_tokens"] * 0.15 + row["output_tokens"] * 0.6) / 1e6)


def test_refresh_dry_run_then_apply_bills_the_next_request_at_the_new_price(gw):
    key = gw.create_key(name="refresh-billing")
    data = json.loads((FIXTURES / "litellm_prices.json").read_text(encoding="utf-8"))
    with gw.admin() as admin:
        dry = admin.post("/admin/catalog/refresh", json={"source": "litellm", "data": data})
        assert dry.status_code == 200, dry.text
        assert gw.sql("SELECT input_usd_per_mtok FROM models WHERE id = 'openai/gpt-4.1-mini'")[0]["input_usd_per_mtok"] == 0.4
        before = chat_cost(gw, key, "openai/gpt-4.1-mini")
        applied = admin.post("/admin/catalog/refresh", json={"source": "litellm", "data": data, "apply": True})
    changes = {entry["model_id"]: entry["changes"] for entry in dry.json()["changes"]}
    assert changes["openai/gpt-4.1-mini"] == {
        "input_usd_per_mtok": {"old": 0.4, "new": 0.5}, "cached_input_usd_per_mtok": {"old": 0.1, "new": 0.125},
        "output_usd_per_mtok": {"old": 1.6, "new": 2.0}}
    assert changes["gemini/gemini-2.5-flash"] == {"reasoning_usd_per_mtok": {"old": None, "new": 2.5},
                                                  "max_output_tokens": {"old": 65536, "new": 65535}}
    assert "anthropic/claude-haiku-4-5" not in changes  # matched, unchanged
    assert dry.json()["applied"] is False and dry.json()["matched"] == 3
    assert applied.json()["changes"] == dry.json()["changes"] and applied.json()["applied"] is True
    assert before["price_version"] == 1
    after = chat_cost(gw, key, "openai/gpt-4.1-mini")
    assert after["price_version"] == 2
    assert after["cost_usd"] == pytest.approx((after["input_tokens"] * 0.5 + after["output_tokens"] * 2.0) / 1e6)
    assert gw.sql("SELECT source FROM model_price_history WHERE model_id = 'openai/gpt-4.1-mini' "
                  "ORDER BY price_version") == [{"source": "seed"}, {"source": "litellm"}]
    with gw.admin() as admin:  # applied: the same file now changes nothing
        assert admin.post("/admin/catalog/refresh", json={"source": "litellm", "data": data}).json()["changes"] == []


def test_refresh_from_a_models_dev_file(gw):
    data = json.loads((FIXTURES / "models_dev_api.json").read_text(encoding="utf-8"))
    with gw.admin() as admin:
        dry = admin.post("/admin/catalog/refresh", json={"source": "models.dev", "data": data}).json()
    by_id = {entry["model_id"]: entry["changes"] for entry in dry["changes"]}
    assert by_id["gemini/gemini-2.5-flash"]["cached_input_usd_per_mtok"] == {"old": 0.03, "new": 0.075}


@pytest.mark.parametrize("body, param", [
    ({"source": "litellm"}, "data"),
    ({"source": "litellm", "data": {}, "url": "http://127.0.0.1:9/x.json"}, "data"),
    ({"source": "openrouter", "data": {}}, "source"),
    ({"source": "models.dev", "data": {"openai": {"id": "openai"}}}, "data"),
    ({"source": "litellm", "url": "http://127.0.0.1:9/prices.json"}, "url"),
    ({"source": "litellm", "url": "ftp://example.com/prices.json"}, "url"),
])
def test_refresh_errors_name_the_field(gw, body, param):
    with gw.admin() as admin:
        response = admin.post("/admin/catalog/refresh", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"] == param


def test_catalog_routes_are_in_the_openapi_schema(gw):
    paths = httpx.get(gw.base_url + "/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/admin/models"])
    assert {"get", "patch"} <= set(paths["/admin/models/{model_id}"])
    assert "post" in paths["/admin/catalog/refresh"]


@pytest.fixture(scope="module")
def file_host():
    """The fixture files over plain HTTP on loopback, as a public catalog URL serves them."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(FIXTURES)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_refresh_fetches_the_file_from_a_url(gw, file_host):
    with gw.admin() as admin:
        fetched = admin.post("/admin/catalog/refresh", json={"source": "models.dev", "url": file_host + "/models_dev_api.json"})
        missing = admin.post("/admin/catalog/refresh", json={"source": "models.dev", "url": file_host + "/nope.json"})
        uploaded = admin.post("/admin/catalog/refresh", json={
            "source": "models.dev", "data": json.loads((FIXTURES / "models_dev_api.json").read_text(encoding="utf-8"))})
    assert fetched.status_code == 200, fetched.text
    assert fetched.json()["changes"] == uploaded.json()["changes"] != []
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "catalog_fetch_failed"


def test_json_prices_are_objects_in_and_out(gw):
    rates = {"1280x720": 0.05, "720x1280": 0.05}
    with gw.admin() as admin:
        updated = admin.patch("/admin/models/xai/grok-imagine-video", json={"video_usd_by_size": rates})
        wrong = admin.patch("/admin/models/xai/grok-imagine-video", json={"video_usd_by_size": {"1280x720": "cheap"}})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["video_usd_by_size"], updated.json()["price_version"]) == (rates, 2)
    stored = gw.sql("SELECT video_usd_by_size FROM models WHERE id = 'xai/grok-imagine-video'")[0]["video_usd_by_size"]
    assert json.loads(stored) == rates
    assert wrong.status_code == 400 and wrong.json()["error"]["param"].startswith("video_usd_by_size")
