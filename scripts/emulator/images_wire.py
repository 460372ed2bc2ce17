"""Image-generation wire formats on the emulator (OpenAI / xAI `/images/generations`, Together AI
`/images/generations`, Imagen `:predict`, Workers AI text-to-image runs): deterministic image files and
answer bodies, as pure functions (no I/O).

The image rule, so tests can compute what a route answers:

- image `i` (0-based) of a request is made from `seed = SHA-256("{prompt}|{i}")`, `prompt` as sent
  (markers included);
- `png_bytes(seed)`: a valid 8x8 RGB PNG whose 192 pixel bytes are the 32 seed bytes repeated;
- `jpeg_bytes(seed)`: a valid 8x8 grayscale baseline JPEG of one gray level (the seed's first byte) with
  the seed's hex in a comment segment;
- `image_bytes(prompt, i, fmt)` is one or the other (`fmt` `png` or `jpeg`);
- a hosted URL is `{emulator}/_emulator/images/{seed hex}.{png|jpg}`, served by the emulator (GET).

Which format each provider answers, as its documentation says: OpenAI PNG (gpt-image: `output_format`,
png by default; `webp` is refused: the emulator makes no WebP), xAI JPEG, Together AI JPEG (`output_format:
png` → PNG), Imagen PNG (`outputOptions.mimeType: image/jpeg` → JPEG), Workers AI FLUX JPEG (base64 in
JSON), Workers AI Stable Diffusion PNG (the file itself).
"""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import zlib

IMAGE_SIDE = 8
ROUTE = "/_emulator/images/"
EXTENSIONS = {"png": "png", "jpeg": "jpg"}
MEDIA_TYPES = {"png": "image/png", "jpeg": "image/jpeg"}
# gpt-image output tokens per image at 1024x1024, by quality (OpenAI's image-generation guide); `auto` → medium.
GPT_IMAGE_TOKENS = {"low": 272, "medium": 1056, "high": 4160}


def image_seed(prompt: str, index: int) -> bytes:
    return hashlib.sha256(f"{prompt}|{index}".encode()).digest()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(seed: bytes) -> bytes:
    pixels = (seed * (IMAGE_SIDE * IMAGE_SIDE * 3 // len(seed) + 1))[: IMAGE_SIDE * IMAGE_SIDE * 3]
    row = IMAGE_SIDE * 3
    raw = b"".join(b"\x00" + pixels[y * row:(y + 1) * row] for y in range(IMAGE_SIDE))
    header = struct.pack(">IIBBBBB", IMAGE_SIDE, IMAGE_SIDE, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(raw))
            + _png_chunk(b"IEND", b""))


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def jpeg_bytes(seed: bytes) -> bytes:
    """One 8x8 block of a single gray level: its DC coefficient is 8 × (level − 128) (quantizer 1), every AC
    coefficient 0; both Huffman tables hold one 1-bit code (the DC size category; end-of-block)."""
    dc = 8 * (seed[0] - 128)
    size = abs(dc).bit_length()
    bits = "0" + (format(dc if dc >= 0 else dc + (1 << size) - 1, f"0{size}b") if size else "") + "0"
    bits += "1" * (-len(bits) % 8)
    scan = bytearray()
    for i in range(0, len(bits), 8):
        scan.append(int(bits[i:i + 8], 2))
        if scan[-1] == 0xFF:
            scan.append(0x00)  # byte stuffing
    one_code = bytes([1] + [0] * 15)
    return b"".join((
        b"\xff\xd8",
        _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
        _segment(0xFE, seed.hex().encode()),
        _segment(0xDB, b"\x00" + b"\x01" * 64),
        _segment(0xC0, struct.pack(">BHHB", 8, IMAGE_SIDE, IMAGE_SIDE, 1) + b"\x01\x11\x00"),
        _segment(0xC4, b"\x00" + one_code + bytes([size])),
        _segment(0xC4, b"\x10" + one_code + b"\x00"),
        _segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
        bytes(scan),
        b"\xff\xd9",
    ))


def image_bytes(prompt: str, index: int, fmt: str) -> bytes:
    seed = image_seed(prompt, index)
    return jpeg_bytes(seed) if fmt == "jpeg" else png_bytes(seed)


def image_b64(prompt: str, index: int, fmt: str) -> str:
    return base64.b64encode(image_bytes(prompt, index, fmt)).decode("ascii")


def image_url(base_url: str, prompt: str, index: int, fmt: str) -> str:
    return f"{base_url}{ROUTE}{image_seed(prompt, index).hex()}.{EXTENSIONS[fmt]}"


def hosted_image(name: str) -> tuple[bytes, str] | None:
    """(bytes, media type) of a hosted URL's file name `{seed hex}.{png|jpg}`; None if it is not one."""
    stem, _, ext = name.partition(".")
    fmt = {"png": "png", "jpg": "jpeg"}.get(ext)
    try:
        seed = bytes.fromhex(stem)
    except ValueError:
        return None
    if fmt is None or len(seed) != 32:
        return None
    return (jpeg_bytes(seed) if fmt == "jpeg" else png_bytes(seed)), MEDIA_TYPES[fmt]


def encode(body: object) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def revised_prompt(prompt: str) -> str:
    """dall-e-3 and xAI rewrite the prompt; the emulator's rewrite is this prefix."""
    return "Emulated revision of: " + prompt


def openai_item(base_url: str, prompt: str, index: int, fmt: str, as_url: bool, revised: bool) -> dict:
    item: dict = {"url": image_url(base_url, prompt, index, fmt)} if as_url else {"b64_json": image_b64(prompt, index, fmt)}
    if revised:
        item["revised_prompt"] = revised_prompt(prompt)
    return item


def gpt_image_usage(prompt: str, n: int, quality: str) -> dict:
    text_tokens = len(prompt.split())
    output = GPT_IMAGE_TOKENS[quality] * n
    return {"input_tokens": text_tokens, "output_tokens": output, "total_tokens": text_tokens + output,
            "input_tokens_details": {"text_tokens": text_tokens, "image_tokens": 0}}


def imagen_predictions(prompt: str, count: int, fmt: str) -> dict:
    return {"predictions": [{"mimeType": MEDIA_TYPES[fmt], "bytesBase64Encoded": image_b64(prompt, i, fmt)}
                            for i in range(count)]}
