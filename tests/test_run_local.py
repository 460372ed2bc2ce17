"""The local runner: configuration as wrangler reads it, and the one-command demo with no keys."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from scripts.run_local import PROVIDER_KEY_NAMES, ROOT, load_config


def test_config_precedence_is_wrangler_vars_then_dev_vars_then_environment(tmp_path: Path):
    (tmp_path / "wrangler.toml").write_text('[vars]\nLOG_LEVEL = "info"\nCORS_ALLOW_ORIGINS = "*"\nA = "toml"\n')
    (tmp_path / ".dev.vars").write_text('LOG_LEVEL="debug"\nOPENAI_API_KEY=sk-from-dev-vars\nA=dev\n')
    config = load_config(tmp_path, {"A": "env"})
    assert config["CORS_ALLOW_ORIGINS"] == "*"
    assert config["LOG_LEVEL"] == "debug"
    assert config["OPENAI_API_KEY"] == "sk-from-dev-vars"
    assert config["A"] == "env"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_one_command_with_no_keys_serves_through_the_emulator(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_KEY_NAMES and k != "GATEWAY_ADMIN_KEY"}
    port = free_port()
    env["PORT"] = str(port)
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "run_local.py"), "--db", str(tmp_path / "demo.sqlite3")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
    )
    try:
        banner = ""
        deadline = time.monotonic() + 30
        while "GATEWAY_ADMIN_KEY" not in banner and time.monotonic() < deadline:
            banner += process.stdout.readline()
        assert "EMULATOR" in banner
        admin_key = re.search(r"for this run it is: (\S+)", banner).group(1)
        base = f"http://127.0.0.1:{port}"
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/health").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        key = httpx.post(base + "/admin/keys", json={}, headers={"authorization": f"Bearer {admin_key}"}).json()["key"]
        answer = httpx.post(
            base + "/v1/chat/completions",
            json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "demo"}]},
            headers={"authorization": f"Bearer {key}"},
        )
        assert answer.status_code == 200
        assert answer.json()["choices"][0]["message"]["content"] == "Emulated reply to: demo"
    finally:
        process.terminate()
        process.wait(timeout=10)
