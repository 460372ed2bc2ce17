"""The emulator's image routes speak each provider's wire format (paths, auth, refusals, answer shapes, error
envelopes) and make valid, deterministic image files (images_wire's documented rule)."""

from __future__ import annotations

import base64
import struct
import zlib

import httpx
import pytest

from scripts.emulator import EmulatorThread
from scripts.emulator.images_wire import image_bytes, image_seed, jpeg_bytes, png_bytes

FLUX = "/cloudflare/client/v4/accounts/acc/ai/run/@cf/black-forest-labs/flux-1-schnell"
SDXL = "/cloudflare/client/v4/accounts/acc/ai/run/@cf/stabilityai/stable-diffusion-xl-base-1.0"
IMAGEN = "/gemini/v1beta/models/imagen-4.0-generate-001:predict"
BEARER = {"authorization": "Bearer k"}


@pytest.fixture(scope="module")
def base_url():
    with EmulatorThread() as running:
        yield running.base_url


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length:at + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        at += 12 + length
    return chunks


def test_png_is_valid_and_its_pixels_are_the_seed():
    seed = image_seed("a cat", 2)
    chunks = dict(png_chunks(png_bytes(seed)))
    assert list(chunks) == [b"IHDR", b"IDAT", b"IEND"]
    assert struct.unpack(">IIBB", chunks[b"IHDR"][:10]) == (8, 8, 8, 2)  # 8x8, 8-bit RGB
    rows = zlib.decompress(chunks[b"IDAT"])
    assert len(rows) == 8 * (1 + 24) and all(rows[i * 25] == 0 for i in range(8))
    pixels = b"".join(rows[i * 25 + 1:(i + 1) * 25] for i in range(8))
    assert pixels == (seed * 6)[:192]


def jpeg_segments(data: bytes) -> dict[int, bytes]:
    assert data.startswith(b"\xff\xd8") and data.endswith(b"\xff\xd9")
    segments, at = {}, 2
    while data[at + 1] != 0xDA:
        marker, (length,) = data[at + 1], struct.unpack(">H", data[at + 2:at + 4])
        segments.setdefault(marker, data[at + 4:at + 2 + length])
        at += 2 + length
    segments[0xDA] = data[at + 4:-2]  # the scan header and its entropy-coded data
    return segments


@pytest.mark.parametrize("prompt", ["a cat", "a dog", "[[emulator:latency_ms=1]] x", "ü"])
def test_jpeg_is_one_gray_block_of_the_seeds_first_byte(prompt):
    seed = image_seed(prompt, 0)
    segments = jpeg_segments(jpeg_bytes(seed))
    assert segments[0xFE] == seed.hex().encode()  # the comment
    assert segments[0xC0] == struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00"  # 8x8, one component
    category = segments[0xC4][17]  # the DC table's only symbol (its code is "0")
    bits = "".join(format(b, "08b") for b in segments[0xDA][6:].replace(b"\xff\x00", b"\xff"))
    assert bits[0] == "0"
    raw = bits[1:1 + category]
    value = int(raw, 2) if category and raw[0] == "1" else (int(raw, 2) - (1 << category) + 1 if category else 0)
    assert bits[1 + category] == "0"  # end of block: every AC coefficient is 0
    assert value // 8 + 128 == seed[0]  # the DC coefficient is 8 × (level − 128)


def test_openai_dall_e_hosts_png_and_gpt_image_refuses_response_format(base_url):
    answer = httpx.post(base_url + "/v1/images/generations", headers=BEARER,
                        json={"model": "dall-e-2", "prompt": "p", "n": 2}).json()
    assert [httpx.get(item["url"]).content for item in answer["data"]] == [image_bytes("p", i, "png") for i in range(2)]
    refused = httpx.post(base_url + "/v1/images/generations", headers=BEARER,
                         json={"model": "gpt-image-1", "prompt": "p", "response_format": "b64_json"})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "response_format"
    made = httpx.post(base_url + "/v1/images/generations", headers=BEARER,
                      json={"model": "gpt-image-1", "prompt": "p", "output_format": "jpeg", "quality": "low"}).json()
    assert base64.b64decode(made["data"][0]["b64_json"]) == image_bytes("p", 0, "jpeg")
    assert (made["size"], made["quality"], made["usage"]["output_tokens"]) == ("1024x1024", "low", 272)
    assert httpx.post(base_url + "/v1/images/generations", json={"model": "dall-e-2", "prompt": "p"}).status_code == 401


def test_xai_refuses_size(base_url):
    response = httpx.post(base_url + "/xai/v1/images/generations", headers=BEARER,
                          json={"model": "grok-2-image", "prompt": "p", "size": "1024x1024"})
    assert response.status_code == 400 and "size" in response.json()["error"]


def test_together_shapes(base_url):
    answer = httpx.post(base_url + "/together/v1/images/generations", headers=BEARER,
                        json={"model": "m", "prompt": "p", "response_format": "base64", "output_format": "png"}).json()
    assert answer["object"] == "list" and answer["data"][0]["index"] == 0
    assert base64.b64decode(answer["data"][0]["b64_json"]) == image_bytes("p", 0, "png")
    too_many = httpx.post(base_url + "/together/v1/images/generations", headers=BEARER,
                          json={"model": "m", "prompt": "p", "n": 5})
    assert too_many.status_code == 400


def test_imagen_predict(base_url):
    body = {"instances": [{"prompt": "p"}], "parameters": {"sampleCount": 2, "aspectRatio": "9:16"}}
    assert httpx.post(base_url + IMAGEN, json=body).status_code == 403  # no key
    answer = httpx.post(base_url + IMAGEN, json=body, headers={"x-goog-api-key": "k"}).json()
    assert [p["mimeType"] for p in answer["predictions"]] == ["image/png", "image/png"]
    assert base64.b64decode(answer["predictions"][1]["bytesBase64Encoded"]) == image_bytes("p", 1, "png")
    bad = httpx.post(base_url + IMAGEN, json={"instances": [{"prompt": "p"}], "parameters": {"aspectRatio": "3:2"}},
                     headers={"x-goog-api-key": "k"})
    assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
    limited = httpx.post(base_url + IMAGEN, json={"instances": [{"prompt": "[[emulator:fault=429]] p"}]},
                         headers={"x-goog-api-key": "k"})
    assert limited.status_code == 429 and limited.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_workers_ai_flux_json_and_sdxl_bytes(base_url):
    assert httpx.post(base_url + FLUX, json={"prompt": "p"}).status_code == 401
    flux = httpx.post(base_url + FLUX, json={"prompt": "p", "steps": 8}, headers=BEARER)
    assert flux.headers["content-type"].startswith("application/json")
    assert base64.b64decode(flux.json()["result"]["image"]) == image_bytes("p", 0, "jpeg")
    assert httpx.post(base_url + FLUX, json={"prompt": "p", "steps": 9}, headers=BEARER).status_code == 400
    sdxl = httpx.post(base_url + SDXL, json={"prompt": "p", "width": 512, "height": 512}, headers=BEARER)
    assert sdxl.headers["content-type"] == "image/png" and sdxl.content == image_bytes("p", 0, "png")
    limited = httpx.post(base_url + SDXL, json={"prompt": "[[emulator:fault=429]] p"}, headers=BEARER)
    assert limited.status_code == 429 and limited.json()["errors"][0]["code"] == 3040


def test_unknown_hosted_image_is_404(base_url):
    assert httpx.get(base_url + "/_emulator/images/nothing.png").status_code == 404
