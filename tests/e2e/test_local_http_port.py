"""AiohttpClient (ports/local_http.py), the local runner's HttpClient, against the emulator: a redirect is
answered, not followed, exactly as the Worker's FetchClient does (tests/cloudflare/test_fetch_adapter.py),
so a provider key never travels to where a redirect points."""

from __future__ import annotations

import asyncio

from gateway.ports import Timeouts
from gateway.ports.local_http import AiohttpClient


def test_a_redirect_is_answered_not_followed(emulator):
    async def scenario():
        client = AiohttpClient()
        try:
            response = await client.send("GET", emulator.base_url + "/_emulator/redirect?to=/v1/models",
                                         {"authorization": "Bearer sk-test"}, None, Timeouts())
            assert response.status == 302
            assert response.headers["location"] == "/v1/models"
            response.close()
        finally:
            await client.close()

    asyncio.run(scenario())
