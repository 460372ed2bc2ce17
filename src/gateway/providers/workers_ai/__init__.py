"""Cloudflare Workers AI behind the OpenAI format: the `AI` binding in the Worker, the REST API
(`/accounts/{account}/ai/run/{model}`) everywhere else."""

from gateway.providers.base import EnvCredentials, ProviderManifest
from gateway.providers.workers_ai.api import ACCOUNT_SETTING, BASE_PATH, DEFAULT_BASE_URL
from gateway.providers.workers_ai.chat import CHAT
from gateway.providers.workers_ai.images import IMAGES
from gateway.providers.workers_ai.transcription import TRANSCRIPTION
from gateway.providers.workers_ai.embeddings import EMBEDDINGS
from gateway.providers.workers_ai.speech import SPEECH

MANIFEST = ProviderManifest(
    name="workers_ai",
    display_name="Cloudflare Workers AI",
    default_base_url=DEFAULT_BASE_URL,
    chat=CHAT,
    images=IMAGES,
    transcription=TRANSCRIPTION,
    embeddings=EMBEDDINGS,
    speech=SPEECH,
    env=EnvCredentials(api_key="CLOUDFLARE_API_TOKEN", base_url="CLOUDFLARE_API_BASE_URL", base_path=BASE_PATH),
    ai_binding=True,
)

__all__ = ["MANIFEST", "ACCOUNT_SETTING"]
